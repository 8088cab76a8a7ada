"""Ports for tests that start servers, reserved so that no two servers can collide.

Every server a test starts (Temporal dev and test servers, `sms-addon dev`, an API,
and later localstripe or a browser) must listen only on ports from this module:

- ``reserve_ports(n)`` hands out ports from a band *below* the kernel's ephemeral
  range (``/proc/sys/net/ipv4/ip_local_port_range``), so no port anything picks at
  random (a bind to port 0, an outgoing connection, the Temporal dev server's own
  internal services) can ever be one of them;
- each port is claimed by an exclusive lock file (``fcntl.flock``) that the test
  process holds until it exits, so two test processes on the machine (several
  worktrees, CI) never get the same port, and one process never gets it twice;
- each port is checked to be bindable when it is claimed.

What remains is a program outside the suite taking a port in the band between the
reservation and the server's bind. ``start_on_reserved_ports`` covers that: it
calls ``start(ports)`` and, if the start fails while one of those ports is now taken
by someone else, tries again with fresh ports. ``start`` must clean up after itself
when it fails (stop the process it started). A new server is wired in like this::

    server = start_on_reserved_ports(2, lambda ports: start_localstripe(ports[0], ports[1]))
    env = await start_on_reserved_ports_async(1, lambda ports: start_server(port=ports[0]))

Pass *every* port a server opens: a port left to the server's own choice is picked
from the ephemeral range, where nothing guards it.
"""

from __future__ import annotations

import errno
import fcntl
import random
import socket
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")

HOST = "127.0.0.1"
BAND_SIZE = 10_000
LOWEST_PORT = 1025
START_ATTEMPTS = 3
LOCK_DIR = Path(tempfile.gettempdir()) / "sms-addon-test-ports"

# Lock files of the ports this process holds; closing one would release its port.
_held: list[IO[bytes]] = []


class NoPortLeft(RuntimeError):
    """Every port of the band is held by a test process or in use."""


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):  # not Linux: the IANA dynamic range
        return 49152, 65535


def band() -> range:
    """The ports this module hands out: outside the ephemeral range, above 1024."""
    low, high = _ephemeral_range()
    below = range(max(LOWEST_PORT, low - BAND_SIZE), low)
    return below if len(below) >= BAND_SIZE // 2 else range(high + 1, 65536)


def bindable(port: int) -> bool:
    """Whether a server could listen on ``port`` now (SO_REUSEADDR, as servers bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _claim(port: int) -> bool:
    lock = (LOCK_DIR / str(port)).open("ab")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return False
    if not bindable(port):
        lock.close()  # someone outside the suite listens there; leave it
        return False
    _held.append(lock)
    return True


def reserve_ports(count: int) -> list[int]:
    """``count`` distinct ports that no other server of any test process will get."""
    LOCK_DIR.mkdir(exist_ok=True)
    ports = band()
    start = random.randrange(len(ports))  # spreads concurrent processes over the band
    found: list[int] = []
    for offset in range(len(ports)):
        port = ports[(start + offset) % len(ports)]
        if _claim(port):
            found.append(port)
            if len(found) == count:
                return found
    raise NoPortLeft(f"no free port left in {ports.start}-{ports.stop - 1}")


def free_port() -> int:
    """One reserved port: for a server, or as an address where nothing listens."""
    return reserve_ports(1)[0]


def _clashed(ports: Sequence[int]) -> bool:
    return any(not bindable(port) for port in ports)


def start_on_reserved_ports(
    count: int, start: Callable[[list[int]], T], attempts: int = START_ATTEMPTS
) -> T:
    """``start(ports)`` with ``count`` reserved ports; again with fresh ports when it
    fails and one of its ports turns out taken (a program outside the suite)."""
    for attempt in range(1, attempts + 1):
        ports = reserve_ports(count)
        try:
            return start(ports)
        except Exception:
            if attempt == attempts or not _clashed(ports):
                raise
    raise AssertionError("unreachable")


async def start_on_reserved_ports_async(
    count: int, start: Callable[[list[int]], Awaitable[T]], attempts: int = START_ATTEMPTS
) -> T:
    """``start_on_reserved_ports`` for a start that is a coroutine."""
    for attempt in range(1, attempts + 1):
        ports = reserve_ports(count)
        try:
            return await start(ports)
        except Exception:
            if attempt == attempts or not _clashed(ports):
                raise
    raise AssertionError("unreachable")

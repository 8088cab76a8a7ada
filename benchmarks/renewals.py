"""Renewal storm: ``count`` subscriptions all due at one instant, renewed by the
project's worker in separate processes (as production runs it; this process only
drives and measures), on the time-skipping test server, with SQLite.

"Due at one instant" is set up rather than slept to: every add-on was activated a
month ago on today's anchor, so its boundary (today 00:00 UTC) has passed; the
subscription workflows are started while no worker polls the task queue, then the
workers start and every renewal is due at once. No time is skipped, so nothing in
the workers (heartbeats, say) can stall the clock. Each workflow's first task also
loads its add-on (one local activity more than a renewal woken by its timer): the
figure errs on the slow side.

The reference runs first on the same server: as many bare subscription workflows
(benchmarks/bare_renewal.py), due at the same instant, renewed by as many worker
processes of their own. The project's storm then has ten times the reference's
duration to finish, so a slow storm is measured whole rather than cut off.

The clock runs from the first worker's start-up line until the last renewal's grant
is committed. Checks: each renewal charged once (its payment rows), the workers' RSS;
shown: the gateway calls beyond one per charge (the workers' own count of
``charge_addon_renewal`` executions), each an attempt retried under its key.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from benchmarks.bare_renewal import READY_LINE as BARE_READY_LINE
from benchmarks.bare_renewal import WORKFLOW as BARE_WORKFLOW
from benchmarks.bare_renewal import BareStart, create_schema
from benchmarks.bare_renewal import renewed as bare_renewed
from benchmarks.stack import Stack, migrated
from benchmarks.storm_measures import activity_executions, rss_mb, run_workers
from boundary.options import WORKFLOW_TASK_TIMEOUT
from config.temporal import ensure_search_attributes
from contracts.subscription import (
    SUBSCRIPTION_WORKFLOW,
    SubscriptionStart,
    subscription_workflow_id,
)
from domain.calendar import boundary, credit_month
from domain.enums import AddonStatus
from store.db import make_session_factory, read_only
from store.ledger_models import CreditGrant
from store.models import Payment
from tests.subscription_support import activate
from tests.support import TEMPORAL_TEST_SERVER

# The reference's time limit; the project's is its duration times this (at least the
# minimum), so a storm slower than the reference still finishes and is measured whole.
BARE_TIME_LIMIT = 300.0
TIME_LIMIT_PER_REFERENCE = 20.0
MIN_TIME_LIMIT_SECONDS = 60.0
STARTS_AT_ONCE = 100
CHARGE_ACTIVITY = "charge_addon_renewal"
WORKER = (sys.executable, "-m", "benchmarks.storm_worker")
BARE_WORKER = (sys.executable, "-m", "benchmarks.bare_renewal")
READY_LINE = "worker polling task queue"


@dataclass
class Storm:
    count: int
    workers: int
    renewed: int
    seconds: float
    charges: int
    gateway_calls: int
    worker_cpu_ms: float  # the worker processes' CPU per renewal
    server_cpu_ms: float  # the time-skipping test server's CPU per renewal
    peak_rss_mb: float  # the largest worker's peak RSS during the storm
    rss_mb: float  # the largest worker's RSS once all renewed (every subscription open)

    @property
    def rate(self) -> float:
        return self.renewed / self.seconds if self.seconds else 0.0


def _due_now(sessions: sessionmaker[Session], count: int, now: datetime) -> dict[str, str]:
    """``count`` add-ons activated a month ago on today's anchor: their month ended today
    at 00:00 UTC. Returns account id -> the purchase that activated it."""
    anchor = now.date()
    due = boundary(anchor, now.year, now.month)
    activated = credit_month(anchor, due - timedelta(seconds=1)).start + timedelta(hours=1)
    run = f"{now:%H%M%S}"
    return {
        f"storm-{run}-{n}": activate(sessions, f"storm-{run}-{n}", anchor=anchor, at=activated)
        for n in range(count)
    }


def _count(sessions: sessionmaker[Session], model: type[CreditGrant] | type[Payment]) -> int:
    with read_only(sessions) as session:  # never takes the workers' write lock
        return (
            session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.idempotency_key.like("renewal:storm-%"))
            )
            or 0
        )


def _bytecode_cached(folder: Path) -> dict[str, str]:
    """Let the workers keep compiled bytecode (in the run's folder), as an installed
    package has it: the workflow sandbox imports the workflow's modules afresh for
    every workflow it loads, and without a bytecode cache each of those imports
    compiles the source again (over half the cost of loading a workflow)."""
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(folder / "pycache")}


async def _in_chunks(starts: Iterable[Awaitable[object]]) -> None:
    """Await ``starts`` a chunk at a time (the server takes so many at once)."""
    pending = list(starts)
    for chunk in range(0, len(pending), STARTS_AT_ONCE):
        await asyncio.gather(*pending[chunk : chunk + STARTS_AT_ONCE])


@dataclass
class Storms:
    """The project's storm and the bare reference's, on one test server in one run."""

    project: Storm
    bare: Storm
    time_limit: float  # the project's, scaled from the reference's duration


async def renewal_storm(folder: Path, count: int, workers: int) -> Storms:
    """``count`` due subscriptions renewed by ``workers`` worker processes, first the bare
    reference's, then the project's; each returns once all renewed (or its time limit
    passed)."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=TEMPORAL_TEST_SERVER
    )
    stack = Stack(folder)
    stack.temporal_address = env.client.service_client.config.target_host
    try:
        await ensure_search_attributes(env.client)
        bare = await _bare_storm(env, stack, folder / "bare.db", count, workers)
        stack.stop_workers()
        time_limit = max(MIN_TIME_LIMIT_SECONDS, bare.seconds * TIME_LIMIT_PER_REFERENCE)
        url = f"sqlite:///{folder / 'storm.db'}"
        project = await _storm(env, stack, url, count, workers, time_limit)
        return Storms(project, bare, time_limit)
    finally:
        stack.stop()
        await env.shutdown()


async def _bare_storm(
    env: WorkflowEnvironment, stack: Stack, database: Path, count: int, workers: int
) -> Storm:
    create_schema(database)
    now = await env.get_current_time()
    queue = f"bench-bare-storm-{now:%H%M%S}"
    due = (now - timedelta(hours=1)).timestamp()
    await _in_chunks(
        env.client.start_workflow(
            BARE_WORKFLOW,
            BareStart(account=f"bare-{n}", due=due, month=1),
            id=f"{queue}-{n}",
            task_queue=queue,
            task_timeout=WORKFLOW_TASK_TIMEOUT,
        )
        for n in range(count)
    )
    names = [f"bare-storm-worker-{n}" for n in range(workers)]
    for name in names:
        stack.start_worker(
            "", name, BARE_WORKER, SMS_TASK_QUEUE=queue, BARE_RENEWAL_DB=str(database)
        )
    run = await run_workers(
        stack, names, BARE_READY_LINE, count, lambda: bare_renewed(database)[0], BARE_TIME_LIMIT
    )
    payments = bare_renewed(database)[1]
    return Storm(
        count=count,
        workers=workers,
        renewed=run.renewed,
        seconds=run.seconds,
        charges=payments,
        gateway_calls=payments,  # the reference's payment is its write: no gateway
        worker_cpu_ms=run.worker_cpu_ms,
        server_cpu_ms=run.server_cpu_ms,
        peak_rss_mb=max(rss_mb(stack.pid(name), "VmHWM") for name in names),
        rss_mb=max(rss_mb(stack.pid(name), "VmRSS") for name in names),
    )


async def _storm(
    env: WorkflowEnvironment, stack: Stack, url: str, count: int, workers: int, time_limit: float
) -> Storm:
    engine = migrated(url)
    sessions = make_session_factory(engine)
    purchases = _due_now(sessions, count, await env.get_current_time())
    await _in_chunks(
        env.client.start_workflow(
            SUBSCRIPTION_WORKFLOW,
            SubscriptionStart(account_id=account, purchase_id=purchase),
            id=subscription_workflow_id(account),
            task_queue=stack.task_queue,
            task_timeout=WORKFLOW_TASK_TIMEOUT,  # as the purchase starts it
            result_type=AddonStatus,
        )
        for account, purchase in purchases.items()
    )
    names = [f"storm-worker-{n}" for n in range(workers)]
    for name in names:
        stack.start_worker(url, name, WORKER, **_bytecode_cached(stack.folder))
    run = await run_workers(
        stack, names, READY_LINE, count, lambda: _count(sessions, CreditGrant), time_limit
    )
    storm = Storm(
        count=count,
        workers=workers,
        renewed=run.renewed,
        seconds=run.seconds,
        charges=_count(sessions, Payment),
        gateway_calls=sum(
            activity_executions(stack.worker_metrics_url(name), CHARGE_ACTIVITY) for name in names
        ),
        worker_cpu_ms=run.worker_cpu_ms,
        server_cpu_ms=run.server_cpu_ms,
        peak_rss_mb=max(rss_mb(stack.pid(name), "VmHWM") for name in names),
        rss_mb=max(rss_mb(stack.pid(name), "VmRSS") for name in names),
    )
    engine.dispose()
    return storm

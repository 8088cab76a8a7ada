"""The renewal storm's reference: the least a subscription on Temporal can be. A workflow
sleeps until its month ends, runs one local activity that writes the month's grant and
payment rows (each keyed by account and month, so a retry writes nothing twice) in one
durable SQLite transaction, and continues as new for the next month.

It runs in worker processes of its own (``python -m benchmarks.bare_renewal``), as many
and with the same capacity (threads, local-activity slots, sticky cache) as the
project's storm workers, on the same time-skipping server, so the ratio between the two
storms is what the project's renewal adds to Temporal's.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from worker import Capacity

WORKFLOW = "BenchBareSubscription"
READY_LINE = "bare worker polling"
MONTH_SECONDS = 30 * 24 * 3600.0
WRITE_TIMEOUT = timedelta(seconds=30)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bare_grants (key TEXT PRIMARY KEY, credits INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bare_payments (key TEXT PRIMARY KEY, amount INTEGER NOT NULL)",
)
CREDITS, AMOUNT_MINOR = 1000, 1500


@dataclass
class BareStart:
    account: str
    due: float  # epoch seconds the month ends
    month: int


@dataclass
class BareRenewal:
    account: str
    month: int


_local = threading.local()


def _connection() -> sqlite3.Connection:
    """One connection per activity thread, durable as the project's (WAL, fsync each commit)."""
    if not hasattr(_local, "connection"):
        opened = sqlite3.connect(os.environ["BARE_RENEWAL_DB"], isolation_level=None)
        opened.execute("PRAGMA journal_mode=WAL")
        opened.execute("PRAGMA synchronous=FULL")
        opened.execute("PRAGMA busy_timeout=30000")
        _local.connection = opened
    connection: sqlite3.Connection = _local.connection
    return connection


def create_schema(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            connection.execute(statement)


def renewed(path: Path) -> tuple[int, int]:
    """(grants, payments) written so far."""
    with sqlite3.connect(path) as connection:
        grants = connection.execute("SELECT count(*) FROM bare_grants").fetchone()[0]
        payments = connection.execute("SELECT count(*) FROM bare_payments").fetchone()[0]
    return int(grants), int(payments)


@activity.defn(name="bench_bare_renew")
def renew(renewal: BareRenewal) -> None:
    key = f"{renewal.account}:{renewal.month}"
    connection = _connection()
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute("INSERT OR IGNORE INTO bare_grants VALUES (?, ?)", (key, CREDITS))
        connection.execute("INSERT OR IGNORE INTO bare_payments VALUES (?, ?)", (key, AMOUNT_MINOR))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


@workflow.defn(name=WORKFLOW, sandboxed=False)  # as the project's subscription workflow
class BareSubscription:
    @workflow.run
    async def run(self, start: BareStart) -> None:
        wait = start.due - workflow.now().timestamp()
        if wait > 0:
            await workflow.sleep(wait)
        await workflow.execute_local_activity(
            renew, BareRenewal(start.account, start.month), start_to_close_timeout=WRITE_TIMEOUT
        )
        workflow.continue_as_new(
            BareStart(start.account, start.due + MONTH_SECONDS, start.month + 1)
        )


async def _serve() -> None:
    client = await Client.connect(
        os.environ["TEMPORAL_ADDRESS"], namespace=os.environ["TEMPORAL_NAMESPACE"]
    )
    capacity = Capacity()
    async with Worker(
        client,
        task_queue=os.environ["SMS_TASK_QUEUE"],
        workflows=[BareSubscription],
        activities=[renew],
        activity_executor=ThreadPoolExecutor(capacity.threads),
        max_concurrent_activities=capacity.activities,
        max_concurrent_local_activities=capacity.local_activities,
        max_cached_workflows=capacity.cached_workflows,
    ):
        print(READY_LINE, flush=True)
        await asyncio.Event().wait()  # until the bench stops this process


if __name__ == "__main__":
    asyncio.run(_serve())

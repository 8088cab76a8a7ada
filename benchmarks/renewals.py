"""Renewal storm: ``count`` subscriptions with the same anchor, all due at one instant,
on the time-skipping test server with the real worker (in this process) and SQLite.
Measures how fast the renewals complete once the boundary passes, checks each was
charged once, and how much the process grew per open subscription."""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from config.temporal import ensure_search_attributes
from domain.calendar import boundary, credit_month
from domain.enums import AddonStatus
from domain.subscription import SUBSCRIPTION_WORKFLOW, SubscriptionStart, subscription_workflow_id
from store.models import CreditGrant, Payment
from tests.subscription_support import SETTLE, activate, advance_to, task_queue
from tests.support import TEMPORAL_TEST_SERVER, migrated_engine, running_worker, session_factory

TIME_LIMIT_SECONDS = 240.0


@dataclass
class Storm:
    count: int
    renewed: int
    seconds: float
    charges: int
    rss_per_subscription_kb: float
    rss_base_kb: float  # the worker process before the subscriptions started

    @property
    def rate(self) -> float:
        return self.renewed / self.seconds if self.seconds else 0.0


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def renewal_storm(count: int) -> Storm:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=TEMPORAL_TEST_SERVER
    )
    try:
        await ensure_search_attributes(env.client)
        with tempfile.TemporaryDirectory() as folder:
            engine = migrated_engine(f"sqlite:///{Path(folder) / 'storm.db'}")
            sessions = session_factory(engine)
            now = await env.get_current_time()
            anchor = now.date()
            purchases = {
                f"storm-{n}": activate(sessions, f"storm-{n}", anchor=anchor, at=now)
                for n in range(count)
            }
            queue = task_queue()
            async with running_worker(env.client, sessions, queue):
                before = _rss_kb()
                for chunk in range(0, count, 50):
                    await asyncio.gather(
                        *(
                            env.client.start_workflow(
                                SUBSCRIPTION_WORKFLOW,
                                SubscriptionStart(account_id=account, purchase_id=purchase),
                                id=subscription_workflow_id(account),
                                task_queue=queue,
                                result_type=AddonStatus,
                            )
                            for account, purchase in list(purchases.items())[chunk : chunk + 50]
                        )
                    )
                await asyncio.sleep(1.0)  # let every first workflow task run
                grown = (_rss_kb() - before) / count
                first = credit_month(anchor, now).start
                due = boundary(anchor, first.year, first.month + 1)
                started = time.monotonic()
                await advance_to(env, due + SETTLE)
                renewed = 0
                while time.monotonic() - started < TIME_LIMIT_SECONDS:
                    with sessions() as session:
                        renewed = (
                            session.scalar(
                                select(func.count())
                                .select_from(CreditGrant)
                                .where(CreditGrant.idempotency_key.like("renewal:%"))
                            )
                            or 0
                        )
                    if renewed >= count:
                        break
                    await asyncio.sleep(0.2)
                seconds = time.monotonic() - started
                with sessions() as session:
                    charges = (
                        session.scalar(
                            select(func.count())
                            .select_from(Payment)
                            .where(Payment.idempotency_key.like("renewal:%"))
                        )
                        or 0
                    )
            engine.dispose()
            return Storm(count, renewed, seconds, charges, grown, before)
    finally:
        await env.shutdown()

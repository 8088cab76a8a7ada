"""Fault drills: a real worker process is killed (SIGKILL) at each step boundary of a
purchase and of a renewal, and at random moments under load; another worker takes
over, and the money invariants (tests/invariants.py) must hold after every drill.

Runs on the dev server (real time): a dead worker's attempt has to time out for real,
which is also the fail-over the customer waits through. Add a drill by adding a
(step, when) pair below; ``when`` is ``before`` (the step did nothing) or ``after``
(the step committed or charged, but its answer was lost with the worker).
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from boundary.options import WAITED_ON_TASK_TIMEOUT
from contracts.purchase import purchase_workflow_id
from contracts.subscription import (
    SUBSCRIPTION_WORKFLOW,
    SubscriptionStart,
    subscription_workflow_id,
)
from domain.calendar import credit_month
from domain.enums import AddonStatus
from store.models import Purchase
from tests.crashing_worker import READY
from tests.invariants import check_money
from tests.purchase_support import open_shop
from tests.subscription_support import activate, renewed
from tests.support import running_worker

ADDON = {"type": "addon", "tier": "sms-1000"}
PACK = {"type": "credit_pack", "pack": "pack-500"}
KILLED = -9

PURCHASE_DRILLS = [
    ("claim_item", "after"),
    ("capture_payment", "before"),
    ("capture_payment", "after"),
    ("grant_purchase", "after"),
    ("start_subscription", "after"),
]
RENEWAL_DRILLS = [
    ("charge_addon_renewal", "after"),
    ("renew_addon_credits", "after"),
]


@contextmanager
def worker_process(
    client: Client, queue: str, url: str, step: str, when: str
) -> Iterator[subprocess.Popen[str]]:
    """A worker in its own process (tests/crashing_worker.py), ready when yielded."""
    address = client.service_client.config.target_host
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.crashing_worker", address, queue, url, step, when],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == READY
        yield process
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize(("step", "when"), PURCHASE_DRILLS, ids=lambda v: str(v))
async def test_purchase_survives_a_worker_killed_at_each_step(
    dev_env, sqlite_sessions, sqlite_url, step, when
):
    env = dev_env
    async with open_shop(
        env, sqlite_sessions, sqlite_url, worker=False, sms_api_wait_seconds=90
    ) as shop:
        async with running_worker(env.client, sqlite_sessions, shop.task_queue):
            quote = (await shop.buy(ADDON)).json()
        with worker_process(env.client, shop.task_queue, sqlite_url, step, when) as doomed:
            confirming = asyncio.create_task(shop.confirm(quote["purchase_id"]))
            assert await asyncio.to_thread(doomed.wait, 60) == KILLED
        async with running_worker(env.client, sqlite_sessions, shop.task_queue):
            done = await asyncio.wait_for(confirming, 90)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "completed"
        assert check_money(shop.sessions, shop.account_id) == {"completed": 1}
        assert shop.counts() == (1, 1)
        assert shop.balance() == 1000
        # The killed step ran inside a workflow task (a local activity): it was handed on
        # when that task timed out, after a purchase's short task timeout
        # (boundary.options.WAITED_ON_TASK_TIMEOUT), what the customer waits through.
        purchase = env.client.get_workflow_handle(
            purchase_workflow_id(shop.account_id, quote["purchase_id"])
        )
        config = (await purchase.describe()).raw_description.execution_config
        assert config.default_workflow_task_timeout.ToTimedelta() == WAITED_ON_TASK_TIMEOUT
        assert await timed_out_tasks(purchase) >= 1


async def timed_out_tasks(handle: WorkflowHandle[Any, Any]) -> int:
    """How many of the workflow's tasks timed out (held by a worker that died)."""
    return sum(
        [
            event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
            async for event in handle.fetch_history_events()
        ]
    )


async def test_a_quote_whose_worker_died_after_recording_it_answers_the_recorded_one(
    dev_env, sqlite_sessions, sqlite_url
):
    """The quote is a local activity that also writes the record: killed after that write,
    the next worker prices and records again, and the answer, the record and the charge
    are all the quote in the history."""
    env = dev_env
    async with open_shop(
        env, sqlite_sessions, sqlite_url, worker=False, sms_api_wait_seconds=90
    ) as shop:
        step = "quote_purchase"
        with worker_process(env.client, shop.task_queue, sqlite_url, step, "after") as doomed:
            quoting = asyncio.create_task(shop.buy(ADDON))
            assert await asyncio.to_thread(doomed.wait, 60) == KILLED
        assert await asyncio.to_thread(_quote_recorded, shop)
        async with running_worker(env.client, sqlite_sessions, shop.task_queue):
            quoted = await asyncio.wait_for(quoting, 90)
            assert quoted.status_code == 201, quoted.text
            answered = quoted.json()
            recorded = await shop.get(f"/purchases/{answered['purchase_id']}")
            assert recorded["quote"] == answered["quote"]
            done = await shop.confirm(answered["purchase_id"])
        assert done.status_code == 200, done.text
        assert done.json()["payment"]["amount_minor"] == answered["quote"]["due_now_minor"]
        assert check_money(shop.sessions, shop.account_id) == {"completed": 1}


def _quote_recorded(shop) -> bool:
    with shop.sessions() as session:
        recorded: int = session.query(Purchase).filter(Purchase.quote.is_not(None)).count()
        return recorded > 0


@pytest.mark.parametrize(("step", "when"), RENEWAL_DRILLS, ids=lambda v: str(v))
async def test_renewal_survives_a_worker_killed_at_each_step(
    dev_env, sqlite_sessions, sqlite_url, step, when
):
    """An add-on activated 40 days ago renews at once when its workflow starts."""
    env, queue = dev_env, f"drill-{uuid.uuid4().hex[:8]}"
    started = datetime.now(UTC) - timedelta(days=40)
    account_id = f"drill-{uuid.uuid4().hex[:6]}"
    activate(sqlite_sessions, account_id, anchor=started.date(), at=started)
    with worker_process(env.client, queue, sqlite_url, step, when) as doomed:
        await env.client.start_workflow(
            SUBSCRIPTION_WORKFLOW,
            SubscriptionStart(account_id=account_id, purchase_id="drill"),
            id=subscription_workflow_id(account_id),
            task_queue=queue,
            result_type=AddonStatus,
        )
        assert await asyncio.to_thread(doomed.wait, 60) == KILLED
    handle = env.client.get_workflow_handle(subscription_workflow_id(account_id))
    try:
        async with running_worker(env.client, sqlite_sessions, queue):
            await renewed(sqlite_sessions, account_id, credit_month(started.date(), started).end)
        check_money(sqlite_sessions, account_id)
    finally:
        await handle.terminate("drill finished")


async def test_purchases_under_load_survive_random_kills(dev_env, sqlite_sessions, sqlite_url):
    """Six purchases at once (three accounts: an add-on, then a pack each), while the
    only worker is killed at random moments twice (seeded, so a failure replays)."""
    env, chance = dev_env, random.Random(20261126)
    async with (
        open_shop(env, sqlite_sessions, sqlite_url, worker=False, sms_api_wait_seconds=120) as a,
        open_shop(env, sqlite_sessions, sqlite_url, worker=False, sms_api_wait_seconds=120) as b,
        open_shop(env, sqlite_sessions, sqlite_url, worker=False, sms_api_wait_seconds=120) as c,
    ):
        shops = [a, b, c]

        async def buy_both(shop) -> list[str]:
            statuses = []
            for item in (ADDON, PACK):
                quote = await shop.buy(item)
                assert quote.status_code == 201, quote.text
                done = await shop.confirm(quote.json()["purchase_id"])
                statuses.append(done.json().get("status", done.text))
            return statuses

        async def kill_twice(queue_of: str) -> None:
            for _ in range(2):
                with worker_process(env.client, queue_of, sqlite_url, "-", "never") as process:
                    await asyncio.sleep(chance.uniform(0.2, 1.5))
                    process.kill()

        # Each shop has its own task queue; one killer per queue, then a survivor.
        buying = [asyncio.create_task(buy_both(shop)) for shop in shops]
        await asyncio.gather(*(kill_twice(shop.task_queue) for shop in shops))
        async with (
            running_worker(env.client, sqlite_sessions, a.task_queue),
            running_worker(env.client, sqlite_sessions, b.task_queue),
            running_worker(env.client, sqlite_sessions, c.task_queue),
        ):
            outcomes = await asyncio.wait_for(asyncio.gather(*buying), 150)
        assert outcomes == [["completed", "completed"]] * 3
        for shop in shops:
            assert check_money(shop.sessions, shop.account_id) == {"completed": 2}
            assert shop.balance() == 1500

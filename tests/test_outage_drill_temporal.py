"""Drill: Temporal is stopped for a minute while purchases are confirmed and a renewal
falls due, then started again on the same port with its state (the dev server `make
run` runs, tests/outage_support.py). The API answers 503 for what needs Temporal
meanwhile; afterwards every purchase completes once and the renewal charges once
(tests/drill_support.py)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests import drill_support as harness
from tests.invariants import check_money
from tests.operator_support import admin_post
from tests.outage_support import RestartableTemporal
from tests.purchase_support import Shop, open_shop
from tests.subscription_support import (
    loaded,
    renewal_granted,
    renewal_soon,
    renewed,
    start_subscription,
)

pytestmark = pytest.mark.drill

ADDON = {"type": "addon", "tier": "sms-1000"}


@dataclass
class TemporalDrill:
    database: harness.Database
    shop: Shop  # quoted before the outage, confirmed during it
    racing: Shop  # confirmed as Temporal stops
    waiting_id: str
    racing_id: str
    renewing: WorkflowHandle[Any, Any]
    renewing_id: str
    month_start: datetime
    answers: harness.Answers = field(default_factory=harness.Answers)

    async def probe(self) -> None:
        """The API reads what the database holds, and answers 503 for what needs Temporal."""
        billing = await self.shop.api.get(
            f"/v1/accounts/{self.shop.account_id}/sms", headers=self.shop.admin
        )
        assert billing.status_code == 200, billing.text
        self.answers.api(await self.shop.confirm(self.waiting_id))
        goodwill = {"credits": 10, "reason": "outage", "request_id": uuid.uuid4().hex[:12]}
        self.answers.api(await admin_post(self.shop.api, self.renewing_id, "/goodwill", goodwill))


async def temporal_drill(
    stack: contextlib.AsyncExitStack, database: harness.Database, env: WorkflowEnvironment
) -> TemporalDrill:
    """Two shops with a quote each and a subscription renewing soon, on ``database``."""
    shops = []
    for _ in range(2):
        shop = await stack.enter_async_context(
            open_shop(env, database.sessions, database.url, sms_api_wait_seconds=10)
        )
        quote = await shop.buy(ADDON)
        assert quote.status_code == 201, quote.text
        shops.append((shop, quote.json()["purchase_id"]))
    (shop, waiting_id), (racing, racing_id) = shops
    renewing_id, month = renewal_soon(
        database.sessions, f"temporal-{database.kind}", harness.RENEWAL_IN
    )
    renewing = await start_subscription(env.client, renewing_id, shop.task_queue)
    await loaded(renewing)
    return TemporalDrill(
        database, shop, racing, waiting_id, racing_id, renewing, renewing_id, month.start
    )


async def test_temporal_is_stopped_for_a_minute(tmp_path):
    """Purchases being confirmed and a renewal due while Temporal is down: the API
    answers 503 for what needs it; once it is back on the same port with its state,
    every purchase completes once and the renewal charges once."""
    temporal = RestartableTemporal(tmp_path / "temporal")
    client = await temporal.start()
    try:
        with harness.databases(tmp_path) as found:
            env = WorkflowEnvironment.from_client(client)
            async with contextlib.AsyncExitStack() as stack:
                drills = [await temporal_drill(stack, database, env) for database in found]
                for drill in drills:  # the renewals fall inside the outage
                    sessions = drill.database.sessions
                    assert not renewal_granted(sessions, drill.renewing_id, drill.month_start)
                racing = [
                    asyncio.create_task(drill.racing.confirm(drill.racing_id)) for drill in drills
                ]
                temporal.stop()
                await harness.during(harness.OUTAGE_SECONDS, *(drill.probe for drill in drills))
                await temporal.start()  # the clients and workers reconnect by themselves
                for drill, confirming in zip(drills, racing, strict=True):
                    raced = await confirming
                    assert raced.status_code in {200, 503}, raced.text
                    await completed(drill.shop, drill.waiting_id)
                    await completed(drill.racing, drill.racing_id)
                    sessions = drill.database.sessions
                    await renewed(
                        sessions, drill.renewing_id, drill.month_start, harness.RECOVERY_SECONDS
                    )
                    assert await harness.running(drill.renewing)
                    for shop in (drill.shop, drill.racing):
                        assert await harness.running(
                            env.client.get_workflow_handle(f"sms-subscription:{shop.account_id}")
                        )
                for drill in drills:
                    assert drill.answers.statuses and set(drill.answers.statuses) == {503}
                    sessions = drill.database.sessions
                    assert (
                        len(harness.succeeded(harness.renewal_charges(sessions, drill.renewing_id)))
                        == 1
                    )
                    check_money(sessions, drill.renewing_id)
                    for shop in (drill.shop, drill.racing):
                        assert check_money(sessions, shop.account_id) == {"completed": 1}
                        assert shop.counts() == (1, 1)
    finally:
        temporal.stop()


async def completed(shop: Shop, purchase_id: str) -> None:
    """Confirm again (it is idempotent) until the purchase answers completed."""
    deadline = asyncio.get_running_loop().time() + harness.RECOVERY_SECONDS
    while True:
        done = await shop.confirm(purchase_id)
        if done.status_code == 200 and done.json()["status"] == "completed":
            return
        assert done.status_code in {200, 503}, done.text
        assert asyncio.get_running_loop().time() < deadline, done.text
        await asyncio.sleep(1)

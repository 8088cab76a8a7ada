"""Drill: the database refuses connections for a minute while one subscription starts
and another renews (PostgreSQL behind a proxy that is cut, SQLite's file moved away).
Both wait it out; meanwhile the API answers 503 and the workflows refuse messages at
once (tests/drill_support.py)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle

from domain.enums import AddonStatus, Role
from tests import drill_support as harness
from tests.invariants import check_money
from tests.operator_support import admin_post
from tests.subscription_support import (
    activate,
    loaded,
    new_account_id,
    renewal_granted,
    renewal_soon,
    renewed,
    start_subscription,
)
from tests.support import bearer, create_user, running_worker, serving

pytestmark = pytest.mark.drill


@dataclass
class DatabaseDrill:
    database: harness.Database
    queue: str
    api: httpx.AsyncClient
    token: str
    starting: WorkflowHandle[Any, Any]  # its add-on is read first during the outage
    renewing: WorkflowHandle[Any, Any]  # it renews during the outage
    renewing_id: str
    month_start: datetime
    answers: harness.Answers = field(default_factory=harness.Answers)

    @property
    def starting_id(self) -> str:
        return self.starting.id.split(":", 1)[1]

    async def probe(self) -> None:
        billing = f"/v1/accounts/{self.starting_id}/sms"
        self.answers.api(await self.api.get(billing, headers=bearer(self.token)))
        goodwill = {"credits": 10, "reason": "outage", "request_id": uuid.uuid4().hex[:12]}
        self.answers.api(await admin_post(self.api, self.renewing_id, "/goodwill", goodwill))
        await asyncio.gather(self.answers.probe(self.starting), self.answers.probe(self.renewing))


async def database_drill(
    stack: contextlib.AsyncExitStack, database: harness.Database, client: Client
) -> DatabaseDrill:
    """A worker and the API on ``database``; a subscription renewing soon, loaded, and
    one about to start."""
    settings = database.settings(sms_token_cache_seconds=0)
    queue = settings.sms_task_queue
    await stack.enter_async_context(running_worker(client, database.sessions, queue))
    api = await stack.enter_async_context(serving(database.services(settings, client)))
    now = datetime.now(UTC)
    starting_id = new_account_id(f"start-{database.kind}")
    activate(database.sessions, starting_id, anchor=now.date(), at=now)
    token = create_user(database.sessions, starting_id, "ana", role=Role.PRIMARY_ADMIN, now=now)
    renewing_id, month = renewal_soon(
        database.sessions, f"renew-{database.kind}", harness.RENEWAL_IN
    )
    renewing = await start_subscription(client, renewing_id, queue)
    await loaded(renewing)
    starting = client.get_workflow_handle(f"sms-subscription:{starting_id}")
    return DatabaseDrill(database, queue, api, token, starting, renewing, renewing_id, month.start)


async def test_the_database_refuses_connections_for_a_minute(dev_env, tmp_path):
    """One subscription starts while the database is out, another renews: both wait
    it out; meanwhile the API answers 503 and the workflows refuse messages at once."""
    client = dev_env.client
    with harness.databases(tmp_path, proxied=True) as found:
        async with contextlib.AsyncExitStack() as stack:
            drills = [await database_drill(stack, database, client) for database in found]
            for drill in drills:  # the renewals fall inside the outage
                sessions = drill.database.sessions
                assert not renewal_granted(sessions, drill.renewing_id, drill.month_start)
            with contextlib.ExitStack() as outages:
                for drill in drills:
                    outages.enter_context(drill.database.outage())
                for drill in drills:
                    await start_subscription(client, drill.starting_id, drill.queue)
                await asyncio.sleep(harness.PROBE_EVERY_SECONDS)  # the first reads have failed
                await harness.during(harness.OUTAGE_SECONDS, *(drill.probe for drill in drills))
            for drill in drills:
                started = await loaded(drill.starting, harness.RECOVERY_SECONDS)
                assert started.status is AddonStatus.ACTIVE
                sessions = drill.database.sessions
                await renewed(
                    sessions, drill.renewing_id, drill.month_start, harness.RECOVERY_SECONDS
                )
                assert await harness.running(drill.starting) and await harness.running(
                    drill.renewing
                )
        for drill in drills:
            sessions = drill.database.sessions
            assert set(drill.answers.statuses) == {503}, drill.answers.statuses
            assert "service_unavailable" in drill.answers.refusals, drill.answers.refusals
            assert set(drill.answers.refusals) <= {"service_unavailable", "addon_not_cancelling"}
            assert len(harness.succeeded(harness.renewal_charges(sessions, drill.renewing_id))) == 1
            check_money(sessions, drill.starting_id)
            check_money(sessions, drill.renewing_id)

"""Drill: the payment provider (localstripe behind a proxy that is cut) cannot be
reached across a renewal for longer than the gateway's retry bound. The attempt is
left to the payment janitor, which finds it never reached Stripe; the renewal charges
again, once, when Stripe is back. Meanwhile messages are answered within 2 s, and
ending the add-on now is refused with 503 (tests/drill_support.py)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from temporalio.client import Client, ScheduleActionStartWorkflow, WorkflowHandle

from config.payment_janitor import janitor_schedule
from payments.stripe_outcomes import NEVER_CREATED
from tests import drill_support as harness
from tests.invariants import check_money
from tests.operator_support import admin_post
from tests.outage_support import LoopbackProxy
from tests.ports import HOST
from tests.stripe_support import intents_of, stripe_settings, stripe_worker
from tests.subscription_support import (
    loaded,
    renewal_granted,
    renewal_soon,
    renewed,
    start_subscription,
    state_of,
)
from tests.support import serving

pytestmark = pytest.mark.drill

# Past the gateway's bound for attempts refused at once (boundary.options,
# BOUNDED_GATEWAY_CALL) and past the janitor's age below.
PROVIDER_OUTAGE_SECONDS = 50.0
# The drill's janitor, run by its schedule as the worker keeps it (config/payment_janitor.py).
JANITOR_EVERY_SECONDS = 5
JANITOR_AFTER_SECONDS = 35


@dataclass
class ProviderDrill:
    database: harness.Database
    api: httpx.AsyncClient
    subscription: WorkflowHandle[Any, Any]
    account_id: str
    month_start: datetime
    answers: harness.Answers = field(default_factory=harness.Answers)

    async def probe(self) -> None:
        """Goodwill is granted at once; ending now is refused at once while the
        renewal's charge is out (it would pay for an ended add-on)."""
        goodwill = {"credits": 10, "reason": "outage", "request_id": uuid.uuid4().hex[:12]}
        granted = await asyncio.wait_for(
            admin_post(self.api, self.account_id, "/goodwill", goodwill), harness.ANSWER_WITHIN
        )
        assert granted.status_code == 201, granted.text
        state = await asyncio.wait_for(state_of(self.subscription), harness.ANSWER_WITHIN)
        if state.charging is None:
            return
        end_now = {"when": "now", "refund": "prorated", "reason": "outage"}
        key = uuid.uuid4().hex
        ended = await asyncio.wait_for(
            admin_post(self.api, self.account_id, "/addon/cancel", end_now, key),
            harness.ANSWER_WITHIN,
        )
        self.answers.api(ended)


async def provider_drill(
    stack: contextlib.AsyncExitStack, database: harness.Database, client: Client, stripe_base: str
) -> ProviderDrill:
    """A Stripe worker, the API and the payment janitor's schedule on ``database``; a
    subscription renewing soon, loaded."""
    settings = database.settings(
        sms_payment_janitor_every_seconds=JANITOR_EVERY_SECONDS,
        sms_payment_janitor_after_seconds=JANITOR_AFTER_SECONDS,
        **stripe_settings(stripe_base),
    )
    queue = settings.sms_task_queue
    await stack.enter_async_context(stripe_worker(client, database.sessions, queue, stripe_base))
    api = await stack.enter_async_context(serving(database.services(settings, client)))
    janitor = janitor_schedule(settings)  # the worker's schedule, one per drill's queue
    assert isinstance(janitor.action, ScheduleActionStartWorkflow)
    janitor.action.id = f"drill-janitor-{queue}"
    schedule = await client.create_schedule(f"drill-janitor-{queue}", janitor)
    stack.push_async_callback(schedule.delete)
    account_id, month = renewal_soon(
        database.sessions, f"provider-{database.kind}", harness.RENEWAL_IN
    )
    subscription = await start_subscription(client, account_id, queue)
    await loaded(subscription)
    return ProviderDrill(database, api, subscription, account_id, month.start)


async def test_the_provider_is_unreachable_across_a_renewal(dev_env, tmp_path, localstripe):
    """Longer than the gateway's retry bound: the attempt is left to the payment janitor,
    which finds it never reached Stripe; the renewal charges again once, when Stripe is
    back. Meanwhile messages are answered."""
    client, stripe = dev_env.client, make_url(localstripe)
    with (
        harness.databases(tmp_path) as found,
        LoopbackProxy(stripe.host or "", stripe.port or 80) as provider,
    ):
        base = f"http://{HOST}:{provider.port}"
        async with contextlib.AsyncExitStack() as stack:
            drills = [await provider_drill(stack, db, client, base) for db in found]
            for drill in drills:  # the renewals fall inside the outage
                sessions = drill.database.sessions
                assert not renewal_granted(sessions, drill.account_id, drill.month_start)
            with provider.down():
                await harness.during(PROVIDER_OUTAGE_SECONDS, *(drill.probe for drill in drills))
            for drill in drills:
                sessions = drill.database.sessions
                await renewed(
                    sessions, drill.account_id, drill.month_start, harness.RECOVERY_SECONDS
                )
                assert await harness.running(drill.subscription)
        for drill in drills:
            sessions = drill.database.sessions
            assert drill.answers.statuses and set(drill.answers.statuses) == {503}
            charges = harness.renewal_charges(sessions, drill.account_id)
            (paid,) = harness.succeeded(charges)
            assert paid.idempotency_key.endswith(":resend-1"), paid.idempotency_key
            assert any(c.decline_reason == NEVER_CREATED for c in charges)  # the janitor's
            intents = intents_of(localstripe, drill.account_id)
            assert [i.id for i in intents if i.status == "succeeded"] == [paid.provider_ref]
            check_money(sessions, drill.account_id)

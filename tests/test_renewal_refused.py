"""A renewal's charge the payment provider refuses itself, not the card (Stripe's 400
``invalid_request_error``; here localstripe refusing a parameter real Stripe takes, as
after an API-version change). The customer is never charged twice, nor made past due or
ended for it, but it is seen: each refusal counted in
``sms_renewal_charges_refused_total`` and logged at ERROR, the subscription's details
saying why it waits, and, once refused for good, the longest pause between its tries.
Fixed (the configuration the provider takes, as a deploy would bring), the next try
charges the month, once.

On the time-skipping server with localstripe; the test runs the payment janitor's own
sweep (``settle_stale``) where its schedule would, its clock past the attempts' age.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle
from temporalio.converter import PayloadConverter

import worker
from boundary.options import OUTAGE_FIRST_PAUSE, OUTAGE_LONGEST_PAUSE
from domain.enums import AddonStatus, BillingCycle
from domain.provider_refusals import REFUSALS_FOR_GOOD
from payments.gateway import PaymentResult
from payments.stripe_outcomes import NEVER_CREATED
from tests.invariants import check_money
from tests.stripe_support import API_KEY, intents_of, stripe_gateway
from tests.subscription_support import TIER, subscribed, task_queue
from tests.support import activity_deps, keep_history
from workflows.summaries import moment

REFUSED = "sms_renewal_charges_refused_total"
# The janitor settles attempts pending longer than this (SMS_PAYMENT_JANITOR_AFTER_SECONDS).
JANITOR_AGE = timedelta(minutes=15)
# Sends refused before the configuration is fixed: past the bound, so that pauses
# after it are taken too.
REFUSED_SENDS = REFUSALS_FOR_GOOD + 1


class Configuration:
    """The Stripe gateway as configured: sending what localstripe refuses until
    ``fixed`` (a worker cannot be swapped under the time-skipping server's clock)."""

    def __init__(self, sessions: sessionmaker[Session], base: str) -> None:
        self._refused = stripe_gateway(sessions, base, as_for_stripe=True)
        self._taken = stripe_gateway(sessions, base)
        self.fixed = False

    def capture(self, **charge: Any) -> PaymentResult:
        return (self._taken if self.fixed else self._refused).capture(**charge)

    def refund(self, **refund: Any) -> PaymentResult:
        return (self._taken if self.fixed else self._refused).refund(**refund)


def refused_so_far() -> float:
    return REGISTRY.get_sample_value(REFUSED) or 0.0


def janitor(sessions: sessionmaker[Session], base: str) -> int:
    """One sweep of the payment janitor; how many attempts it closed as declined."""
    swept = stripe_gateway(sessions, base).settle_stale(
        now=datetime.now(UTC) + 2 * JANITOR_AGE, older_than=JANITOR_AGE, limit=50
    )
    return swept.declined


async def details(handle: WorkflowHandle[Any, Any]) -> str:
    metadata: WorkflowMetadata = await handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return str(metadata.current_details)


async def resend_pauses(handle: WorkflowHandle[Any, Any]) -> list[timedelta]:
    """The timers the renewal took before each next send, from its history."""
    pauses = []
    async for event in handle.fetch_history_events():
        if not event.HasField("timer_started_event_attributes"):
            continue
        summary = PayloadConverter.default.from_payload(event.user_metadata.summary, str)
        if summary.startswith("send the charge"):
            timer = event.timer_started_event_attributes
            pauses.append(timer.start_to_fire_timeout.ToTimedelta())
    return pauses


async def test_a_renewal_charge_the_provider_refuses_waits_in_sight_and_charges_once_fixed(
    time_skipping_env, sqlite_sessions, localstripe, caplog: pytest.LogCaptureFixture
):
    env, queue, sessions = time_skipping_env, task_queue(), sqlite_sessions
    caplog.set_level(logging.ERROR, logger="temporalio.activity")
    before = refused_so_far()
    async with subscribed(env, sessions, "refused", queue=queue, with_worker=False) as sub:
        gateway = Configuration(sessions, localstripe)
        deps = replace(activity_deps(env.client, sessions), gateway=gateway)
        async with worker.build_worker(env.client, deps, queue):
            await sub.after_boundary(1)
            first = await details(sub.handle)
            for sent in range(2, REFUSED_SENDS + 1):
                assert janitor(sessions, localstripe) == 1  # closed as never sent
                await sub.advance_to(await env.get_current_time() + timedelta(hours=1))
                assert refused_so_far() == before + sent
            blocked, waiting = await details(sub.handle), await sub.state()
            gateway.fixed = True
            assert janitor(sessions, localstripe) == 1
            await sub.advance_to(await env.get_current_time() + timedelta(hours=1))
            state, after = await sub.state(), await details(sub.handle)
            pauses = await resend_pauses(sub.handle)
            await keep_history(sub.handle, "subscription/charge-outside-lock/provider_refused")

    since = moment(sub.boundary(1))
    assert (
        f"; the payment provider refused the charge itself, not the card (once, since {since})"
    ) in first
    assert (
        f"; blocked: the payment provider refused the charge itself, not the card "
        f"({REFUSED_SENDS} times in a row, since {since}): fix its configuration"
    ) in blocked
    # Meanwhile the add-on stays as it was: neither declined nor past due.
    assert (waiting.status, waiting.dunning) == (AddonStatus.ACTIVE, None)
    assert waiting.charging is not None
    # Doubling pauses first, the longest once the refusals are for good.
    assert pauses == [
        *(OUTAGE_FIRST_PAUSE * 2**n for n in range(REFUSALS_FOR_GOOD - 1)),
        *([OUTAGE_LONGEST_PAUSE] * (REFUSED_SENDS - REFUSALS_FOR_GOOD + 1)),
    ]
    # Counted once per refused send, and not after the fix.
    assert refused_so_far() == before + REFUSED_SENDS
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(lines) == REFUSED_SENDS, lines
    key = f"renewal:{sub.account_id}:{sub.boundary(1):%Y-%m-%d}:attempt-1"
    assert all("refused the renewal charge" in line and key in line for line in lines), lines
    assert not any(API_KEY in line for line in lines)
    # Charged once, for the month, under the last key; the refused attempts moved nothing.
    assert (state.status, state.charging, state.month) == (AddonStatus.ACTIVE, None, sub.month(1))
    assert "refused" not in after
    charges = sub.charges()
    assert [(c.status, c.decline_reason) for c in charges[:-1]] == [
        ("declined", NEVER_CREATED)
    ] * REFUSED_SENDS
    paid = charges[-1]
    assert (paid.status, paid.idempotency_key) == ("succeeded", f"{key}:resend-{REFUSED_SENDS}")
    [intent] = intents_of(localstripe, sub.account_id)
    assert (intent.status, intent.amount) == ("succeeded", TIER.price_minor(BillingCycle.MONTHLY))
    assert sub.balance() == TIER.credits_per_month
    check_money(sessions, sub.account_id)

"""A renewal's charge runs outside the subscription's lock: while the provider does not
answer, messages are answered (within 2 s), each as if the charge had been paid, and
the charge's outcome then applies to the add-on as they left it; its amount and the
credits it pays for are those priced when it started. Past the gateway's retry bound
the outcome is left to the payment janitor, and the renewal waits for its answer.

Real time on the dev server (the answers are timed), except the janitor's wait, which
passes through minutes on the time-skipping server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowQueryFailedError

import worker
from activities.subscription import SubscriptionActivities
from contracts.subscription import (
    ALLOTMENT_CHANGED_SIGNAL,
    CANCEL_UPDATE,
    END_LINE_UPDATE,
    RESUME_UPDATE,
    AddonLine,
    AllotmentChanged,
    CancelAccepted,
    CancelAddon,
    ChargeOutcome,
    ChargeRequest,
    EndLine,
    ResumeAccepted,
    ResumeAddon,
)
from domain.calendar import as_utc
from domain.enums import AddonStatus, BillingCycle, GrantSource, PaymentStatus
from payments.gateway import GatewayUnavailable
from payments.sandbox import DECLINING_METHOD
from payments.stripe_outcomes import NEVER_CREATED
from store.db import transaction
from store.ledger_models import CreditGrant
from store.models import Account, AddonSubscription, Payment
from tests.invariants import check_money
from tests.operator_support import admin_post
from tests.subscription_support import (
    PACK,
    TIER,
    Subscription,
    add_pack,
    captures,
    renewal_due,
    renewed,
    start_subscription,
    state_of,
    subscribed,
    task_queue,
)
from tests.support import activity_deps, api_client, keep_history, settings_for
from tests.unknown_outcome_support import OutcomeUnknown, settle_as_janitor

T = TypeVar("T")
# The promise: a message is answered within this while a renewal's charge is out.
ANSWER_WITHIN = 2.0


class ProviderOut:
    """The gateway as the renewal's charge meets it: no answer and nothing recorded
    while ``out`` is set; the real charge once it is cleared."""

    def __init__(self, real: SubscriptionActivities) -> None:
        self.real = real
        self.out = threading.Event()
        self.out.set()

    @activity.defn(name="charge_addon_renewal")
    def charge_addon_renewal(self, request: ChargeRequest) -> ChargeOutcome:
        if self.out.is_set():
            raise GatewayUnavailable("the provider does not answer")
        return self.real.charge_addon_renewal(request)


async def answered(call: Awaitable[T]) -> T:
    return await asyncio.wait_for(call, ANSWER_WITHIN)


async def charging(handle) -> datetime:
    """Wait until the renewal's charge is out; the end of the period it pays for."""
    for _ in range(300):
        with contextlib.suppress(WorkflowQueryFailedError):  # not loaded yet
            state = await state_of(handle)
            if state.charging is not None:
                return state.charging.charge.period.end
        await asyncio.sleep(0.1)
    raise AssertionError("the renewal never started its charge")


def captured(sessions: sessionmaker[Session], account_id: str, status: str) -> list[Payment]:
    return [c for c in captures(sessions, account_id) if c.status == status]


def new_grants(
    sessions: sessionmaker[Session], account_id: str, since: datetime
) -> dict[str, CreditGrant]:
    """The account's grants made at or after ``since``, by source."""
    with sessions() as session:
        grants = session.scalars(select(CreditGrant).where(CreditGrant.account_id == account_id))
        return {g.source: g for g in grants if as_utc(g.granted_at) >= since}


async def test_messages_are_answered_while_the_renewal_charge_is_out(
    dev_env, sqlite_sessions, sqlite_url
):
    env, queue = dev_env, task_queue()
    account_id, month = renewal_due(sqlite_sessions, "out")
    deps = activity_deps(env.client, sqlite_sessions)
    provider = ProviderOut(SubscriptionActivities(deps))
    async with (
        worker.build_worker(env.client, deps, queue, stand_ins=[provider.charge_addon_renewal]),
        api_client(settings_for(sqlite_url), env.client) as api,
    ):
        handle = await start_subscription(env.client, account_id, queue)
        try:
            await charging(handle)
            # A pack bought while the charge is out: its purchase grants and charges its
            # own share; the renewal's charge stays what it was priced at.
            pack = add_pack(sqlite_sessions, account_id, PACK, datetime.now(UTC))
            change = AllotmentChanged(account_id=account_id, purchase_id=pack)
            await answered(handle.signal(ALLOTMENT_CHANGED_SIGNAL, change))
            body = {"credits": 300, "reason": "provider outage", "request_id": "gw-out"}
            goodwill = await answered(admin_post(api, account_id, "/goodwill", body))
            assert goodwill.status_code == 201, goodwill.text
            cancel = {"when": "period_end", "reason": "asked by phone"}
            cancelled = await answered(admin_post(api, account_id, "/addon/cancel", cancel, "c1"))
            assert cancelled.status_code == 200, cancelled.text
            assert cancelled.json()["status"] == "cancelling"
            resume = ResumeAddon(account_id=account_id, requested_by="ana")
            resumed = await answered(
                handle.execute_update(RESUME_UPDATE, resume, result_type=ResumeAccepted)
            )
            assert resumed.status is AddonStatus.ACTIVE
            end = EndLine(account_id=account_id, line_id=pack, requested_by="ana")
            ended = await answered(
                handle.execute_update(END_LINE_UPDATE, end, result_type=AddonLine)
            )
            assert ended.ends_at == month.end  # the next renewal: the month being paid for
            end_now = {"when": "now", "refund": "prorated", "reason": "goodbye"}
            refused = await answered(admin_post(api, account_id, "/addon/cancel", end_now, "e1"))
            assert refused.status_code == 503, refused.text
            assert "being collected" in refused.json()["error"]["message"]
            assert not captured(sqlite_sessions, account_id, "succeeded")

            provider.out.clear()
            await renewed(sqlite_sessions, account_id, month.start)
            state = await state_of(handle)
            await keep_history(handle, "subscription/charge-outside-lock/messages_while_out")
        finally:
            await handle.terminate("test finished")
    assert (state.status, state.charging, state.month) == (AddonStatus.ACTIVE, None, month)
    (charge,) = captured(sqlite_sessions, account_id, "succeeded")
    assert charge.amount_minor == TIER.price_minor(BillingCycle.MONTHLY)
    assert charge.idempotency_key == f"renewal:{account_id}:{month.start:%Y-%m-%d}:attempt-1"
    grants = new_grants(sqlite_sessions, account_id, month.start)
    assert grants[GrantSource.RENEWAL].credits == TIER.credits_per_month  # what it paid for
    assert grants[GrantSource.PACK].credits == PACK.credits_per_month
    goodwill_grant = grants[GrantSource.ADJUSTMENT]  # until the next renewal
    assert goodwill_grant.expires_at is not None
    assert (as_utc(goodwill_grant.expires_at), goodwill_grant.remaining) == (month.end, 300)
    check_money(sqlite_sessions, account_id)


@pytest.mark.parametrize("method", ["pm_card_visa", DECLINING_METHOD], ids=["paid", "declined"])
async def test_a_cancel_while_the_charge_is_out_follows_its_outcome(
    dev_env, sqlite_sessions, method
):
    """Cancelled while the renewal is charged: paid, it ends with the period paid for;
    declined, nothing is paid, so it ends at once (as a past-due cancel does)."""
    env, queue = dev_env, task_queue()
    account_id, month = renewal_due(sqlite_sessions, "cancel-out")
    with transaction(sqlite_sessions) as session:
        account = session.get(Account, account_id)
        assert account is not None
        account.payment_method = method
    deps = activity_deps(env.client, sqlite_sessions)
    provider = ProviderOut(SubscriptionActivities(deps))
    async with worker.build_worker(
        env.client, deps, queue, stand_ins=[provider.charge_addon_renewal]
    ):
        handle = await start_subscription(env.client, account_id, queue)
        try:
            paid_until = await charging(handle)
            cancel = CancelAddon(account_id=account_id, requested_by="ana")
            accepted = await answered(
                handle.execute_update(CANCEL_UPDATE, cancel, result_type=CancelAccepted)
            )
            assert (accepted.status, accepted.ends_at) == (AddonStatus.CANCELLING, paid_until)
            provider.out.clear()
            if method == DECLINING_METHOD:
                assert await asyncio.wait_for(handle.result(), 60) is AddonStatus.CANCELLED
            else:
                await renewed(sqlite_sessions, account_id, month.start)
            state = await state_of(handle)
        finally:
            if method != DECLINING_METHOD:
                await handle.terminate("test finished")
    if method == DECLINING_METHOD:
        assert (state.status, state.dunning, state.month) == (AddonStatus.CANCELLED, None, month)
        assert state.ends_at is not None and state.ends_at <= month.start + timedelta(minutes=1)
        assert not captured(sqlite_sessions, account_id, "succeeded")
    else:
        assert (state.status, state.ends_at, state.paid_through) == (
            AddonStatus.CANCELLING,
            paid_until,
            paid_until,
        )
        assert len(captured(sqlite_sessions, account_id, "succeeded")) == 1
    check_money(sqlite_sessions, account_id)


@pytest.mark.parametrize("janitor_finds", ["succeeded", "never_sent"])
async def test_an_unknown_outcome_waits_for_the_payment_janitor(
    time_skipping_env, sqlite_sessions, janitor_finds
):
    """Past the gateway's bound the renewal reads the attempt, on durable timers, until
    the janitor has settled it; an attempt the provider never saw is sent again."""
    env, queue = time_skipping_env, task_queue()
    deps = activity_deps(env.client, sqlite_sessions)
    provider = OutcomeUnknown(  # a resend (a new key) goes through
        sqlite_sessions, SubscriptionActivities(deps), lost=lambda request: not request.resend
    )
    async with (
        subscribed(env, sqlite_sessions, "janitor", queue=queue, with_worker=False) as sub,
        worker.build_worker(env.client, deps, queue, stand_ins=[provider.charge_addon_renewal]),
    ):
        await sub.after_boundary(1)  # hours past the bound: still waiting
        assert (await sub.state()).charging is not None
        if janitor_finds == "succeeded":
            settle_as_janitor(sqlite_sessions, sub.account_id, PaymentStatus.SUCCEEDED)
        else:
            settle_as_janitor(
                sqlite_sessions, sub.account_id, PaymentStatus.DECLINED, NEVER_CREATED
            )
        await sub.advance_to(sub.boundary(1) + timedelta(hours=2))
        state = await sub.state()
        await keep_history(sub.handle, f"subscription/charge-outside-lock/janitor_{janitor_finds}")
    await assert_renewed_once(sub, state.status)
    (paid,) = captured(sqlite_sessions, sub.account_id, "succeeded")
    resent = janitor_finds == "never_sent"
    assert paid.idempotency_key.endswith(":resend-1") is resent


class RowGoneMidCharge:
    """The add-on row deleted (by hand) while the charge of ``attempt`` is out, before it
    reaches the provider: every send of it then finds no add-on to charge. Other
    attempts are the real charge."""

    def __init__(
        self, sessions: sessionmaker[Session], real: SubscriptionActivities, attempt: int
    ) -> None:
        self.sessions, self.real, self.attempt, self.sends = sessions, real, attempt, 0

    @activity.defn(name="charge_addon_renewal")
    def charge_addon_renewal(self, request: ChargeRequest) -> ChargeOutcome:
        if request.attempt == self.attempt:
            self.sends += 1
            with transaction(self.sessions) as session:
                addon = session.get(AddonSubscription, request.account_id)
                if addon is not None:
                    session.delete(addon)
        return self.real.charge_addon_renewal(request)


@pytest.mark.parametrize("attempt", [1, 2], ids=["renewal", "dunning_retry"])
async def test_an_addon_row_gone_while_its_charge_is_out_ends_it_uncharged(
    time_skipping_env, sqlite_sessions, caplog, attempt
):
    """The charge is refused as a missing record and nothing was recorded under its key,
    so nothing was charged: the add-on ends cancelled (as a renewal that finds no row
    does), once, with an ERROR line; it is not sent again. The same for a dunning
    retry (the renewal's charge declined first)."""
    env, queue = time_skipping_env, task_queue()
    deps = activity_deps(env.client, sqlite_sessions)
    provider = RowGoneMidCharge(sqlite_sessions, SubscriptionActivities(deps), attempt)
    method = "pm_card_visa" if attempt == 1 else DECLINING_METHOD
    async with (
        subscribed(
            env, sqlite_sessions, "row-gone", queue=queue, with_worker=False, payment_method=method
        ) as sub,
        worker.build_worker(env.client, deps, queue, stand_ins=[provider.charge_addon_renewal]),
    ):
        await sub.advance_to(sub.boundary(1) + timedelta(days=attempt))
        described = await sub.handle.describe()
        assert described.status is WorkflowExecutionStatus.COMPLETED, described.status
        assert await sub.handle.result() is AddonStatus.CANCELLED
        if attempt == 1:
            await keep_history(sub.handle, "subscription/row-gone/ended_during_charge")
    assert provider.sends == 1
    renewals = [c for c in sub.charges() if c.idempotency_key.startswith("renewal:")]
    assert [c.status for c in renewals] == ["declined"] * (attempt - 1)  # none taken
    assert sub.balance() == 0  # the credits expired with the add-on
    gone = [r for r in caplog.records if r.levelno >= logging.ERROR and "is gone" in r.getMessage()]
    assert len(gone) == 1, [r.getMessage() for r in caplog.records]
    assert f"attempt {attempt}" in gone[0].getMessage()


async def assert_renewed_once(sub: Subscription, status: AddonStatus) -> None:
    assert status is AddonStatus.ACTIVE
    period_start = sub.addon().period_start
    assert period_start is not None and as_utc(period_start) == sub.boundary(1)
    assert sub.balance() == TIER.credits_per_month
    check_money(sub.sessions, sub.account_id)

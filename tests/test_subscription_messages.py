"""Messages to a running subscription: a credit pack, goodwill credits, a billing-cycle
change (through the admin API, as an operator makes it)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from contracts.subscription import (
    ALLOTMENT_CHANGED_SIGNAL,
    GRANT_GOODWILL_UPDATE,
    SUBSCRIPTION_WORKFLOW,
    AllotmentChanged,
    GoodwillGranted,
    GrantGoodwill,
    SubscriptionStart,
    subscription_workflow_id,
)
from domain.calendar import billing_period, days_left
from domain.enums import AddonStatus, BillingCycle, EntryKind, GrantSource
from domain.pricing import prorate
from tests.subscription_support import PACK, TIER, subscribed
from tests.support import (
    ADMIN_TOKEN,
    api_client,
    bearer,
    create_account,
    keep_history,
    running_worker,
    settings_for,
)

MID_MONTH = timedelta(days=10)
# Long enough for a signal to be handled, far from any boundary.
A_MOMENT = timedelta(minutes=5)


async def test_credit_pack_raises_the_allotment_and_charge_from_the_next_boundary(
    time_skipping_env, sqlite_sessions
):
    async with subscribed(time_skipping_env, sqlite_sessions, "pack") as sub:
        await sub.advance_to(sub.activated_at + MID_MONTH)
        purchase_id = sub.add_pack(PACK, await time_skipping_env.get_current_time())
        change = AllotmentChanged(account_id=sub.account_id, purchase_id=purchase_id)
        await sub.handle.signal(ALLOTMENT_CHANGED_SIGNAL, change)
        await time_skipping_env.sleep(A_MOMENT)

        allotment = TIER.credits_per_month + PACK.credits_per_month
        recurring = TIER.monthly_price_minor + PACK.monthly_price_minor
        state = await sub.state()
        assert state.totals.monthly_credits == allotment
        assert (
            state.details() == f"renews {sub.boundary(1):%Y-%m-%d}, charges ${recurring / 100:.2f}"
        )
        assert (sub.addon().monthly_credits, sub.addon().next_charge_minor) == (
            allotment,
            recurring,
        )
        assert sub.balance() == allotment  # the pack's credits came at once
        sub.spend(300, await time_skipping_env.get_current_time())

        await sub.after_boundary(1)
        assert sub.expired_at(sub.boundary(1)) == allotment - 300
        assert sub.balance() == allotment
        assert [c.amount_minor for c in sub.charges()] == [recurring]
        await keep_history(sub.handle, "subscription/credit_pack")


async def test_goodwill_credits_are_an_adjustment_until_the_next_renewal(
    time_skipping_env, sqlite_sessions
):
    async with subscribed(time_skipping_env, sqlite_sessions, "goodwill") as sub:
        await sub.advance_to(sub.activated_at + MID_MONTH)
        grant = GrantGoodwill(
            account_id=sub.account_id, credits=250, reason="Carrier outage", request_id="t-1"
        )
        for _ in range(2):  # the same request twice grants once
            granted = await sub.handle.execute_update(
                GRANT_GOODWILL_UPDATE, grant, result_type=GoodwillGranted
            )
            assert granted == GoodwillGranted(
                credits=250, expires_at=sub.boundary(1), balance=TIER.credits_per_month + 250
            )
        (adjust,) = sub.entries(EntryKind.ADJUST)
        assert (adjust.credits, adjust.reference) == (250, "goodwill: Carrier outage")
        goodwill = [g for g in sub.grants() if g.source == GrantSource.ADJUSTMENT]
        assert [g.expires_at for g in goodwill] == [sub.boundary(1)]

        await sub.after_boundary(1)
        assert sub.expired_at(sub.boundary(1)) == TIER.credits_per_month + 250
        assert sub.balance() == TIER.credits_per_month
        await keep_history(sub.handle, "subscription/goodwill")


async def test_billing_cycle_change_applies_at_the_end_of_the_paid_period(
    time_skipping_env, sqlite_url, sqlite_sessions
):
    async with subscribed(time_skipping_env, sqlite_sessions, "cycle") as sub:
        settings = settings_for(sqlite_url)
        await sub.advance_to(sub.activated_at + MID_MONTH)
        async with api_client(settings, time_skipping_env.client) as api:
            changed = await api.put(
                f"/v1/admin/accounts/{sub.account_id}",
                json={"billing_cycle": "annual"},
                headers=bearer(ADMIN_TOKEN),
            )
            assert changed.status_code == 200, changed.text
        await time_skipping_env.sleep(A_MOMENT)

        annual = TIER.price_minor(BillingCycle.ANNUAL)
        year = billing_period(sub.anchor, BillingCycle.ANNUAL, sub.boundary(1))
        rest_of_year = prorate(annual, days_left(year, sub.boundary(1)), year.days)
        state = await sub.state()
        assert (state.billing_cycle, state.pending_billing_cycle) == (
            BillingCycle.MONTHLY,
            BillingCycle.ANNUAL,
        )
        assert sub.addon().next_charge_minor == rest_of_year  # still due at the month's end
        assert sub.addon().next_charge_at == sub.boundary(1)

        await sub.after_boundary(12)
        charges = sub.charges()
        assert [(c.at, c.amount_minor) for c in charges] == [
            (sub.boundary(1), rest_of_year),
            (sub.boundary(12), annual),
        ]
        addon = sub.addon()
        assert (addon.billing_cycle, addon.next_charge_at) == ("annual", sub.boundary(24))
        assert sub.balance() == TIER.credits_per_month
        await keep_history(sub.first_run(), "subscription/billing_cycle_change")


async def test_a_subscription_without_an_add_on_ends_at_once(time_skipping_env, sqlite_sessions):
    """A late pack notification (signal-with-start) for an account whose add-on row is
    gone starts nothing it could charge."""
    env = time_skipping_env
    now = await env.get_current_time()
    create_account(sqlite_sessions, "no-addon", anchor=now.date(), now=now)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    async with running_worker(env.client, sqlite_sessions, queue):
        status = await env.client.execute_workflow(
            SUBSCRIPTION_WORKFLOW,
            SubscriptionStart(account_id="no-addon", purchase_id="pur_gone"),
            id=subscription_workflow_id("no-addon"),
            task_queue=queue,
            result_type=AddonStatus,
        )
    assert status is AddonStatus.INACTIVE

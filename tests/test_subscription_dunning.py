"""Dunning: a declined renewal leaves the month without credits until a retry succeeds;
the last scheduled retry failing suspends the add-on for good."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus

from contracts.subscription import RETRY_PAYMENT_SIGNAL, RetryPayment
from domain.addon import DEFAULT_DUNNING_RETRY_DAYS
from domain.enums import AddonStatus, GrantSource, PaymentStatus
from payments.sandbox import DECLINING_METHOD
from tests.subscription_support import SETTLE, TIER, subscribed
from tests.support import ADMIN_TOKEN, api_client, bearer, keep_history, settings_for


async def test_declined_renewal_is_past_due_until_the_payment_method_is_fixed(
    time_skipping_env, sqlite_url, sqlite_sessions
):
    async with subscribed(
        time_skipping_env, sqlite_sessions, "dunning", payment_method=DECLINING_METHOD
    ) as sub:
        sub.spend(400, sub.activated_at)
        await sub.after_boundary(1)
        addon = sub.addon()
        assert addon.status == AddonStatus.PAST_DUE
        assert sub.balance() == 0
        assert sub.expired_at(sub.boundary(1)) == TIER.credits_per_month - 400
        assert addon.next_charge_minor == TIER.monthly_price_minor
        first_retry = sub.boundary(1) + timedelta(days=DEFAULT_DUNNING_RETRY_DAYS[0])
        assert addon.next_charge_at == first_retry
        assert (await sub.state()).details().startswith("past due: $18.00 declined 1 time(s)")

        await sub.advance_to(first_retry + SETTLE)  # the first retry is declined too
        assert [c.status for c in sub.charges()] == [PaymentStatus.DECLINED] * 2

        async with api_client(settings_for(sqlite_url), time_skipping_env.client) as api:
            fixed = await api.put(
                f"/v1/admin/accounts/{sub.account_id}",
                json={"payment_method": "pm_card_visa"},
                headers=bearer(ADMIN_TOKEN),
            )
            assert fixed.status_code == 200, fixed.text
        fixed_at = await time_skipping_env.get_current_time()
        await time_skipping_env.sleep(timedelta(minutes=5))

        paid = sub.charges()[-1]
        assert (paid.status, paid.amount_minor) == (
            PaymentStatus.SUCCEEDED,
            TIER.monthly_price_minor,
        )
        assert paid.at - fixed_at < timedelta(minutes=5)  # at once, not at the next retry
        assert sub.balance() == TIER.credits_per_month
        (renewal,) = [g for g in sub.grants() if g.source == GrantSource.RENEWAL]
        assert renewal.expires_at == sub.boundary(2)
        addon = sub.addon()
        assert (addon.status, addon.next_charge_at) == (AddonStatus.ACTIVE, sub.boundary(2))

        await sub.after_boundary(2)  # back to the normal rhythm
        assert [c.status for c in sub.charges()].count(PaymentStatus.SUCCEEDED) == 2
        assert sub.balance() == TIER.credits_per_month
        await keep_history(sub.handle, "subscription/local-renewal/dunning_recovered")


async def test_last_declined_retry_suspends_the_addon(time_skipping_env, sqlite_sessions):
    async with subscribed(
        time_skipping_env, sqlite_sessions, "suspend", payment_method=DECLINING_METHOD
    ) as sub:
        await sub.after_boundary(1)
        # An operator's extra retry is one more attempt; it does not use up the schedule.
        await sub.handle.signal(
            RETRY_PAYMENT_SIGNAL, RetryPayment(account_id=sub.account_id, requested_by="ops")
        )
        last_retry = sub.boundary(1) + timedelta(days=DEFAULT_DUNNING_RETRY_DAYS[-1])
        await sub.advance_to(last_retry - SETTLE)
        assert sub.addon().status == AddonStatus.PAST_DUE
        attempts = 1 + 1 + len(DEFAULT_DUNNING_RETRY_DAYS) - 1
        assert len(sub.charges()) == attempts

        await sub.advance_to(last_retry + SETTLE)
        described = await sub.handle.describe()
        assert described.status == WorkflowExecutionStatus.COMPLETED
        addon = sub.addon()
        assert (addon.status, addon.ends_at, addon.next_charge_at) == (
            AddonStatus.SUSPENDED,
            last_retry,
            None,
        )
        assert sub.balance() == 0
        declines = sub.charges()
        assert len(declines) == attempts + 1
        assert {c.status for c in declines} == {PaymentStatus.DECLINED}
        assert [c.at for c in declines if c.at != sub.boundary(1)][-3:] == [
            sub.boundary(1) + timedelta(days=days) for days in DEFAULT_DUNNING_RETRY_DAYS
        ]

        await sub.after_boundary(3)
        assert len(sub.charges()) == attempts + 1  # never charged again
        await keep_history(sub.handle, "subscription/dunning_suspended")

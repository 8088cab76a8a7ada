"""Monthly renewals without rollover, monthly and annual billing (issue 4)."""

from __future__ import annotations

from temporalio.client import WorkflowExecutionStatus

from domain.enums import AddonStatus, BillingCycle, EntryKind, GrantSource
from tests.subscription_support import TIER, subscribed
from tests.support import keep_history

MONTHS = 25


async def test_monthly_account_renews_and_charges_every_month(time_skipping_env, sqlite_sessions):
    async with subscribed(time_skipping_env, sqlite_sessions, "monthly") as sub:
        for month in range(1, MONTHS + 1):
            spent = 10 * month
            sub.spend(spent, await time_skipping_env.get_current_time())
            unspent = sub.balance()
            assert unspent == TIER.credits_per_month - spent

            await sub.after_boundary(month)

            assert sub.expired_at(sub.boundary(month)) == unspent, f"month {month}"
            assert sub.balance() == TIER.credits_per_month, f"month {month}"
            charges = sub.charges()
            assert len(charges) == month, f"month {month}"
            assert {c.amount_minor for c in charges} == {TIER.monthly_price_minor}
            assert charges[-1].at == sub.boundary(month)
        addon = sub.addon()
        assert addon.status == AddonStatus.ACTIVE
        assert addon.period_start == sub.boundary(MONTHS)
        assert addon.period_end == addon.next_charge_at == sub.boundary(MONTHS + 1)
        assert addon.next_charge_minor == TIER.monthly_price_minor
        await keep_history(sub.first_run(), "subscription/local-renewal/monthly_first_run")
        await keep_history(
            sub.latest_handle(), "subscription/local-renewal/monthly_after_continue_as_new"
        )
        first_run = await sub.first_run().describe()
        assert first_run.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
        assert (await sub.state()).month == sub.month(MONTHS)


async def test_annual_account_is_charged_yearly_and_granted_monthly(
    time_skipping_env, sqlite_sessions
):
    async with subscribed(
        time_skipping_env, sqlite_sessions, "annual", cycle=BillingCycle.ANNUAL
    ) as sub:
        for month in range(1, MONTHS + 1):
            await sub.after_boundary(month)
            renewal_grants = [g for g in sub.grants() if g.source == GrantSource.RENEWAL]
            assert len(renewal_grants) == month
            assert renewal_grants[-1].granted_at == sub.boundary(month)
            assert renewal_grants[-1].expires_at == sub.boundary(month + 1)
            assert sub.balance() == TIER.credits_per_month
        charges = sub.charges()
        assert [c.at for c in charges] == [sub.boundary(12), sub.boundary(24)]
        assert {c.amount_minor for c in charges} == {TIER.price_minor(BillingCycle.ANNUAL)}
        assert sub.addon().next_charge_at == sub.boundary(36)
        assert len(sub.entries(EntryKind.GRANT)) == MONTHS + 1  # the purchase's, then monthly
        await keep_history(sub.latest_handle(), "subscription/annual")

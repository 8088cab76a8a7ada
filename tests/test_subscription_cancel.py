"""Cancelling (POST /addon/cancel) and downgrading to Starter: credits until the end of
the paid period, then cancelled, balance 0, never charged again."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import WorkflowExecutionStatus

from domain.enums import AddonStatus, BillingCycle, GrantSource, Role
from tests.subscription_support import TIER, new_account_id, subscribed
from tests.support import (
    ADMIN_TOKEN,
    api_client,
    bearer,
    create_account,
    create_user,
    keep_history,
    settings_for,
)

MID_MONTH = timedelta(days=12)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_cancel_mid_period_ends_at_the_paid_periods_end(
    time_skipping_env, sqlite_url, sqlite_sessions
):
    async with subscribed(time_skipping_env, sqlite_sessions, "cancel") as sub:
        now = await time_skipping_env.get_current_time()
        admin = create_user(sqlite_sessions, sub.account_id, "ana", now=now)
        viewer = create_user(sqlite_sessions, sub.account_id, "bo", role=Role.USER, now=now)
        path = f"/v1/accounts/{sub.account_id}/sms/addon/cancel"
        await sub.advance_to(sub.activated_at + MID_MONTH)
        sub.spend(100, await time_skipping_env.get_current_time())
        async with api_client(settings_for(sqlite_url), time_skipping_env.client) as api:
            refused = await api.post(path, headers=bearer(viewer))
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "billing_permission_required"

            expected = {"status": "cancelling", "ends_at": rfc3339(sub.boundary(1))}
            for _ in range(2):  # repeating it answers the same end
                accepted = await api.post(path, headers=bearer(admin))
                assert accepted.status_code == 200, accepted.text
                assert accepted.json() == expected
            addon = sub.addon()
            assert (addon.status, addon.ends_at) == (AddonStatus.CANCELLING, sub.boundary(1))
            assert (addon.next_charge_at, addon.next_charge_minor) == (None, None)
            assert sub.balance() == TIER.credits_per_month - 100  # credits until the end

            await sub.after_boundary(1)
            addon = sub.addon()
            assert (addon.status, addon.ends_at) == (AddonStatus.CANCELLED, sub.boundary(1))
            assert sub.balance() == 0
            assert (await sub.handle.describe()).status == WorkflowExecutionStatus.COMPLETED

            again = await api.post(path, headers=bearer(admin))
            assert again.status_code == 409
            assert again.json()["error"]["code"] == "addon_not_active"
        await sub.after_boundary(3)
        assert sub.charges() == []
        assert sub.balance() == 0
        await keep_history(sub.handle, "subscription/cancelled")


async def test_cancel_without_an_addon_is_409(time_skipping_env, sqlite_url, sqlite_sessions):
    now = await time_skipping_env.get_current_time()
    account_id = new_account_id("noaddon")
    create_account(sqlite_sessions, account_id, anchor=now.date(), now=now)
    token = create_user(sqlite_sessions, account_id, "ana", now=now)
    async with api_client(settings_for(sqlite_url), time_skipping_env.client) as api:
        response = await api.post(
            f"/v1/accounts/{account_id}/sms/addon/cancel", headers=bearer(token)
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "addon_not_active"


async def test_downgrade_to_starter_ends_an_annual_addon_at_the_paid_years_end(
    time_skipping_env, sqlite_url, sqlite_sessions
):
    async with subscribed(
        time_skipping_env, sqlite_sessions, "starter", cycle=BillingCycle.ANNUAL
    ) as sub:
        await sub.advance_to(sub.boundary(2) + MID_MONTH)
        async with api_client(settings_for(sqlite_url), time_skipping_env.client) as api:
            moved = await api.put(
                f"/v1/admin/accounts/{sub.account_id}",
                json={"plan": "starter"},
                headers=bearer(ADMIN_TOKEN),
            )
            assert moved.status_code == 200, moved.text
        await time_skipping_env.sleep(timedelta(minutes=5))
        addon = sub.addon()
        assert (addon.status, addon.ends_at) == (AddonStatus.CANCELLING, sub.boundary(12))

        await sub.after_boundary(11)  # the paid year keeps its monthly credits
        renewals = [g for g in sub.grants() if g.source == GrantSource.RENEWAL]
        assert len(renewals) == 11
        assert sub.balance() == TIER.credits_per_month
        assert (
            await sub.state()
        ).details() == f"cancelling: ends {sub.boundary(12):%Y-%m-%d}, no further charges"

        await sub.after_boundary(14)
        assert sub.addon().status == AddonStatus.CANCELLED
        assert sub.balance() == 0
        assert len([g for g in sub.grants() if g.source == GrantSource.RENEWAL]) == 11
        assert sub.charges() == []
        await keep_history(sub.handle, "subscription/downgraded_to_starter")

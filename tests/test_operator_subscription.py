"""Operator actions on the subscription: goodwill (once per request id), retry a
past-due payment (409 when nothing is past due), cancel at period end, and end now
with a prorated refund; each audited once per key, the money invariants after."""

from __future__ import annotations

from datetime import timedelta

from contracts.operator import AuditAction, operator_update_id
from contracts.subscription import (
    GRANT_GOODWILL_UPDATE,
    GoodwillGranted,
    GrantGoodwill,
    subscription_workflow_id,
)
from domain.calendar import Period, billing_period
from domain.enums import AddonStatus, BillingCycle, GrantSource, PaymentStatus
from domain.refunds import prorated_unused_minor
from payments.sandbox import DECLINING_METHOD
from tests.invariants import check_money
from tests.operator_support import admin_post, audit_of, ops_post, refunds_of
from tests.purchase_support import open_shop
from tests.subscription_support import TIER, subscribed
from tests.support import api_client, keep_history, settings_for

ADDON = {"type": "addon", "tier": "sms-1000"}


async def test_goodwill_is_granted_once_per_request_id(
    time_skipping_env, sqlite_url, sqlite_sessions
):
    async with subscribed(time_skipping_env, sqlite_sessions, "goodwill") as sub:
        body = {"credits": 250, "reason": "outage on the 3rd", "request_id": "gw-1"}
        async with api_client(settings_for(sqlite_url), time_skipping_env.client) as api:
            first = await admin_post(api, sub.account_id, "/goodwill", body)
            again = await admin_post(api, sub.account_id, "/goodwill", body)
        assert first.status_code == again.status_code == 201, first.text
        assert first.json() == again.json()
        assert first.json()["balance"] == TIER.credits_per_month + 250
        assert sub.balance() == TIER.credits_per_month + 250
        (grant,) = [g for g in sub.grants() if g.source == GrantSource.ADJUSTMENT]
        assert grant.expires_at == sub.boundary(1)
        (record,) = audit_of(sqlite_sessions, sub.account_id)
        assert (record.action, record.operator, record.reason) == (
            "goodwill",
            "olga",
            "outage on the 3rd",
        )
        assert record.reference == f"goodwill:{sub.account_id}:gw-1"
        check_money(sqlite_sessions, sub.account_id)


async def test_goodwill_whose_answer_was_lost_is_answered_and_audited_after_the_end(
    time_skipping_env, sqlite_url, sqlite_sessions
):
    """A goodwill request reached the subscription and its answer never came back (so
    nothing was audited); the add-on was then ended now. The same request again answers
    the grant it made, from the subscription's update, and is audited then, once."""
    async with subscribed(time_skipping_env, sqlite_sessions, "gwlost") as sub:
        body = {"credits": 250, "reason": "outage on the 3rd", "request_id": "gw-lost"}
        grant = GrantGoodwill(account_id=sub.account_id, **body)
        lost = await sub.handle.execute_update(  # as the API sends it
            GRANT_GOODWILL_UPDATE,
            grant,
            id=operator_update_id(AuditAction.GOODWILL, "gw-lost"),
            result_type=GoodwillGranted,
        )
        async with api_client(settings_for(sqlite_url), time_skipping_env.client) as api:
            end = {"when": "now", "refund": "none", "reason": "closed account"}
            ended = await admin_post(api, sub.account_id, "/addon/cancel", end, key="end-1")
            assert ended.status_code == 200, ended.text
            assert await sub.handle.result() is AddonStatus.CANCELLED
            again = await admin_post(api, sub.account_id, "/goodwill", body)
            once_more = await admin_post(api, sub.account_id, "/goodwill", body)
            other = await admin_post(api, sub.account_id, "/goodwill", {**body, "request_id": "x"})
    assert again.status_code == once_more.status_code == 201, again.text
    assert again.json() == once_more.json() == lost.model_dump(mode="json")
    assert other.status_code == 409 and other.json()["error"]["code"] == "addon_not_active"
    assert [r.action for r in audit_of(sqlite_sessions, sub.account_id)] == ["end_now", "goodwill"]
    assert len([g for g in sub.grants() if g.source == GrantSource.ADJUSTMENT]) == 1


async def test_retry_payment_only_when_past_due(time_skipping_env, sqlite_url, sqlite_sessions):
    async with subscribed(
        time_skipping_env, sqlite_sessions, "retry", payment_method=DECLINING_METHOD
    ) as sub:
        async with api_client(settings_for(sqlite_url), time_skipping_env.client) as api:
            early = await admin_post(api, sub.account_id, "/retry-payment", key="early")
            assert early.status_code == 409, early.text
            assert early.json()["error"]["code"] == "not_past_due"
            assert "active, not past due" in early.json()["error"]["message"]

            await sub.after_boundary(1)
            assert sub.addon().status == AddonStatus.PAST_DUE
            sub.set_account(payment_method="pm_card_visa")  # fixed, nobody told the workflow
            for _ in range(2):
                retried = await admin_post(api, sub.account_id, "/retry-payment", key="rt-1")
                assert retried.status_code == 202, retried.text
                assert retried.json()["retry_requested"] is True
            await time_skipping_env.sleep(timedelta(minutes=5))
        assert [c.status for c in sub.charges()] == [
            PaymentStatus.DECLINED,
            PaymentStatus.SUCCEEDED,
        ]
        assert sub.addon().status == AddonStatus.ACTIVE
        assert sub.balance() == TIER.credits_per_month
        assert [r.action for r in audit_of(sqlite_sessions, sub.account_id)] == ["retry_payment"]
        check_money(sqlite_sessions, sub.account_id)


async def test_cancel_at_period_end_is_the_customers_cancel(
    time_skipping_env, sqlite_url, sqlite_sessions
):
    async with subscribed(time_skipping_env, sqlite_sessions, "opscancel") as sub:
        body = {"when": "period_end", "refund": "none", "reason": "asked by phone"}
        async with api_client(settings_for(sqlite_url), time_skipping_env.client) as api:
            refused = await admin_post(
                api, sub.account_id, "/addon/cancel", {**body, "refund": "prorated"}, key="c-0"
            )
            assert refused.status_code == 422
            done = await admin_post(api, sub.account_id, "/addon/cancel", body, key="c-1")
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "cancelling"
        assert sub.addon().status == AddonStatus.CANCELLING
        assert sub.balance() == TIER.credits_per_month  # credits until the end
        (record,) = audit_of(sqlite_sessions, sub.account_id)
        assert (record.action, record.payload["when"]) == ("cancel_at_period_end", "period_end")


async def test_end_now_expires_credits_and_refunds_the_unused_days_once(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        bought = await shop.bought(ADDON)
        payment_id = bought["payment"]["payment_id"]
        await time_skipping_env.sleep(timedelta(days=10))
        now = await time_skipping_env.get_current_time()
        period: Period = billing_period(shop.now.date(), BillingCycle.MONTHLY, shop.now)
        expected = prorated_unused_minor(TIER.monthly_price_minor, period, now)
        body = {"when": "now", "refund": "prorated", "reason": "fraud"}

        first = await ops_post(shop, "/addon/cancel", body, key="end-1")
        assert first.status_code == 200, first.text
        again = await ops_post(shop, "/addon/cancel", body, key="end-1")
        assert again.status_code == 200 and again.json() == first.json()
        ended = first.json()
        assert ended["status"] == "cancelled"
        assert ended["credits_expired"] == TIER.credits_per_month
        (refund,) = ended["refunds"]
        assert (refund["amount_minor"], refund["refund_of"]) == (expected, payment_id)
        assert 0 < expected < bought["quote"]["due_now_minor"]
        assert len(refunds_of(shop, payment_id)) == 1
        assert shop.balance() == 0

        later = await ops_post(shop, "/addon/cancel", body, key="end-2")
        assert later.status_code == 409  # nothing left to end
        assert later.json()["error"]["code"] == "addon_not_active"
        (record,) = [r for r in audit_of(shop.sessions, shop.account_id) if r.action == "end_now"]
        assert record.reference == refund["payment_id"]
        check_money(shop.sessions, shop.account_id)
        handle = shop.env.client.get_workflow_handle(subscription_workflow_id(shop.account_id))
        assert await handle.result() == AddonStatus.CANCELLED
        await keep_history(handle, "subscription/end-now-prorated")

"""Operator refunds through the admin API: partial then the rest, never beyond the
capture (409), idempotent by key, credits revoked by the rule and never below zero,
the audit, and the money invariants."""

from __future__ import annotations

from contracts.operator import operator_refund_workflow_id
from store.operator_models import RefundRequest
from tests.invariants import check_money
from tests.operator_support import ADMIN, audit_rows, ops_post, refunds_of, spend
from tests.purchase_support import Shop, open_shop
from tests.support import keep_history

ADDON = {"type": "addon", "tier": "sms-1000"}


def request_id(shop: Shop, key: str) -> int:
    with shop.sessions() as session:
        request: RefundRequest = session.query(RefundRequest).filter_by(request_key=key).one()
        return request.id


async def test_partial_then_the_rest_then_nothing_more(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        bought = await shop.bought(ADDON)
        payment_id, captured = bought["payment"]["payment_id"], bought["quote"]["due_now_minor"]
        balance = shop.balance()
        part = captured // 4
        body = {"payment_id": payment_id, "amount_minor": part, "reason": "late delivery"}

        missing_key = await ops_post(shop, "/refunds", body)
        assert missing_key.status_code == 422, missing_key.text

        first = await ops_post(shop, "/refunds", body, key="r-1")
        assert first.status_code == 201, first.text
        again = await ops_post(shop, "/refunds", body, key="r-1")
        assert again.status_code == 201, again.text
        assert again.json() == first.json()
        refund = first.json()
        assert (refund["kind"], refund["status"], refund["amount_minor"]) == (
            "refund",
            "succeeded",
            part,
        )
        assert refund["refund_of"] == payment_id and refund["credits_revoked"] == 0
        assert len(refunds_of(shop, payment_id)) == 1  # one effect for two requests
        assert shop.balance() == balance  # no revoke asked

        other_body = await ops_post(shop, "/refunds", {**body, "amount_minor": 1}, key="r-1")
        assert other_body.status_code == 409  # the key was used for another request

        too_much = await ops_post(
            shop, "/refunds", {**body, "amount_minor": captured - part + 1}, key="r-2"
        )
        assert too_much.status_code == 409, too_much.text
        assert too_much.json()["error"]["code"] == "conflict"

        rest = await ops_post(
            shop,
            "/refunds",
            {**body, "amount_minor": captured - part, "revoke_credits": True},
            key="r-3",
        )
        assert rest.status_code == 201, rest.text
        # Refunded in full: every credit the purchase's grant still held goes back.
        assert rest.json()["credits_revoked"] == balance
        assert shop.balance() == 0

        nothing_left = await ops_post(shop, "/refunds", {**body, "amount_minor": 1}, key="r-4")
        assert nothing_left.status_code == 409
        assert sum(p.amount_minor for p in refunds_of(shop, payment_id)) == captured

        payments = await shop.get("/payments")
        assert {p["payment_id"] for p in payments["payments"]} >= {
            refund["payment_id"],
            rest.json()["payment_id"],
        }
        rows = [r for r in audit_rows(shop) if r.action == "refund"]
        assert [(r.operator, r.reference) for r in rows] == [
            ("olga", refund["payment_id"]),
            ("olga", rest.json()["payment_id"]),
        ]
        listed = await shop.api.get(
            f"/v1/admin/accounts/{shop.account_id}/sms/audit", headers=ADMIN
        )
        assert listed.status_code == 200
        assert [a["reference"] for a in listed.json()["audit"]] == [
            rest.json()["payment_id"],
            refund["payment_id"],
        ]
        check_money(shop.sessions, shop.account_id)


async def test_revoke_takes_a_share_and_never_spent_credits(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        bought = await shop.bought(ADDON)
        payment_id, captured = bought["payment"]["payment_id"], bought["quote"]["due_now_minor"]
        granted = shop.balance()
        half = captured // 2
        body = {"payment_id": payment_id, "reason": "goodwill", "revoke_credits": True}
        first = await ops_post(shop, "/refunds", {**body, "amount_minor": half}, key="h-1")
        assert first.status_code == 201, first.text
        assert first.json()["credits_revoked"] == granted * half // captured
        # Spend all but 10 credits: the rest of the refund can take back only those.
        spend(shop, shop.balance() - 10)
        rest = await ops_post(
            shop, "/refunds", {**body, "amount_minor": captured - half}, key="h-2"
        )
        assert rest.status_code == 201, rest.text
        assert rest.json()["credits_revoked"] == 10
        assert shop.balance() == 0
        check_money(shop.sessions, shop.account_id)
        handle = shop.env.client.get_workflow_handle(
            operator_refund_workflow_id(shop.account_id, request_id(shop, "h-2"))
        )
        await keep_history(handle, "operator/refund-revoking")


async def test_a_payment_of_another_account_is_not_found(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        body = {"payment_id": "pay_nothing", "amount_minor": 1, "reason": "x"}
        refused = await ops_post(shop, "/refunds", body, key="n-1")
        assert refused.status_code == 404, refused.text
        assert audit_rows(shop) == []

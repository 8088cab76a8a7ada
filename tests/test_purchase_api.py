"""Purchases end to end: the API, the purchase workflow, the DB and the sandbox gateway.

Each outcome's history is recorded for tests/test_replay.py (RECORD_HISTORIES=1).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from domain.enums import BillingCycle, Plan
from tests.purchase_support import open_shop
from tests.support import keep_history, running_worker

ADDON = {"type": "addon", "tier": "sms-1000"}
PACK = {"type": "credit_pack", "pack": "pack-500"}


@pytest.fixture
async def shop(time_skipping_env, sqlite_sessions, sqlite_url):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        yield shop


def error_code(response) -> str:
    return str(response.json()["error"]["code"])


@pytest.fixture
async def shop_on_every_database(time_skipping_env, sessions, database_url):
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        yield shop


async def test_addon_then_pack_on_a_monthly_account(shop_on_every_database):
    shop = shop_on_every_database
    quote = await shop.buy(ADDON)
    assert quote.status_code == 201, quote.text
    body = quote.json()
    assert body["status"] == "awaiting_confirmation"
    q = body["quote"]
    # Bought on the anchor day: the whole month is due, and the credits come in full.
    assert (q["due_now_minor"], q["recurring_minor"], q["interval"]) == (1800, 1800, "month")
    assert (q["credits_now"], q["monthly_credits_after"]) == (1000, 1000)
    assert set(q) >= {"currency", "lines", "next_charge_at", "expires_at"}

    done = await shop.confirm(body["purchase_id"])
    assert done.status_code == 200, done.text
    completed = done.json()
    assert completed["status"] == "completed"
    assert completed["payment"]["amount_minor"] == 1800
    await keep_history(shop.handle(body["purchase_id"]), "purchase/completed")

    pack = await shop.bought(PACK)
    assert pack["quote"]["monthly_credits_after"] == 1500
    assert pack["quote"]["recurring_minor"] == 2700

    page = await shop.get()
    assert page["addon"]["status"] == "active"
    assert page["addon"]["tier"] == "sms-1000"
    assert page["addon"]["monthly_credits"] == 1500
    assert page["addon"]["next_charge_minor"] == 2700
    assert page["credits"]["balance"] == 1500
    assert page["credits"]["expires_at"] == page["addon"]["period_end"]

    ledger = (await shop.get("/ledger"))["entries"]
    assert [(e["kind"], e["credits"]) for e in ledger] == [("grant", 500), ("grant", 1000)]
    payments = (await shop.get("/payments"))["payments"]
    assert [(p["kind"], p["amount_minor"], p["status"]) for p in payments] == [
        ("capture", pack["quote"]["due_now_minor"], "succeeded"),
        ("capture", 1800, "succeeded"),
    ]
    fetched = await shop.api.get(
        f"/v1/accounts/{shop.account_id}/sms/purchases/{body['purchase_id']}", headers=shop.admin
    )
    assert fetched.json()["status"] == "completed"
    assert fetched.json()["payment"]["payment_id"] == completed["payment"]["payment_id"]


async def test_annual_account_pays_the_rest_of_its_year(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    now = await time_skipping_env.get_current_time()
    anchor = (now - timedelta(days=100)).date()
    async with open_shop(
        time_skipping_env, sqlite_sessions, sqlite_url, cycle=BillingCycle.ANNUAL, anchor=anchor
    ) as shop:
        offers = await shop.get("/offers")
        assert offers["interval"] == "year"
        tier = next(t for t in offers["addon_tiers"] if t["id"] == "sms-1000")
        assert tier["price_minor"] == 12 * 1800
        done = await shop.bought(ADDON)
        q = done["quote"]
        assert q["interval"] == "year" and q["recurring_minor"] == 21600
        assert 0 < q["due_now_minor"] < 21600
        assert q["credits_now"] == 1000
        page = await shop.get()
        assert page["credits"]["balance"] == 1000
        assert page["addon"]["next_charge_at"] == q["next_charge_at"]
        pack = await shop.bought(PACK)
        assert pack["quote"]["recurring_minor"] == 21600 + 12 * 900
        assert shop.counts() == (2, 2)
        assert shop.balance() == 1500


async def test_refusals_end_the_purchase_as_rejected(shop):
    plain = await shop.buy(ADDON, who=shop.plain)
    assert (plain.status_code, error_code(plain)) == (403, "billing_permission_required")
    # Permission comes first: nothing is recorded for a caller who may not buy.
    assert "purchase" not in plain.json()["error"]
    assert (await shop.get("/purchases"))["purchases"] == []

    early_pack = await shop.buy(PACK)
    assert (early_pack.status_code, error_code(early_pack)) == (409, "addon_not_active")
    unknown_tier = await shop.buy({"type": "addon", "tier": "sms-3"})
    assert (unknown_tier.status_code, error_code(unknown_tier)) == (422, "invalid_request")
    unknown_pack = await shop.buy({"type": "credit_pack", "pack": "pack-3"})
    assert (unknown_pack.status_code, error_code(unknown_pack)) == (422, "invalid_request")

    await shop.bought(ADDON)
    # The tier it has; another tier is a tier change (tests/test_tier_change.py).
    second = await shop.buy(ADDON, who=shop.biller)
    assert (second.status_code, error_code(second)) == (409, "addon_already_active")
    assert shop.counts() == (1, 1)


async def test_starter_accounts_cannot_buy(time_skipping_env, sqlite_sessions, sqlite_url):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url, plan=Plan.STARTER) as shop:
        response = await shop.buy(ADDON)
        assert (response.status_code, error_code(response)) == (409, "plan_not_eligible")
        assert (await shop.get())["addon"]["status"] == "inactive"


async def test_malformed_requests_are_422_and_create_nothing(shop):
    url = f"/v1/accounts/{shop.account_id}/sms/purchases"
    bad_json = await shop.api.post(
        url, content=b"{not json", headers={**shop.admin, "Content-Type": "application/json"}
    )
    assert (bad_json.status_code, error_code(bad_json)) == (422, "invalid_request")
    for item in (
        {"type": "addon"},
        {"type": "addon", "tier": "sms-1000", "pack": "pack-500"},
        {"type": "gift", "tier": "sms-1000"},
    ):
        response = await shop.buy(item)
        assert (response.status_code, error_code(response)) == (422, "invalid_request"), item
    assert shop.counts() == (0, 0)


async def test_other_accounts_and_missing_tokens(
    shop, time_skipping_env, sqlite_sessions, sqlite_url
):
    quote = (await shop.buy(ADDON)).json()
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url, worker=False) as other:
        for path in ("", "/ledger", "/payments", "/offers", f"/purchases/{quote['purchase_id']}"):
            response = await other.api.get(
                f"/v1/accounts/{shop.account_id}/sms{path}", headers=other.admin
            )
            assert (response.status_code, error_code(response)) == (404, "not_found"), path
        confirm = await other.api.post(
            f"/v1/accounts/{shop.account_id}/sms/purchases/{quote['purchase_id']}/confirm",
            headers=other.admin,
        )
        assert confirm.status_code == 404
        own = await other.api.get(
            f"/v1/accounts/{other.account_id}/sms/purchases/{quote['purchase_id']}",
            headers=other.admin,
        )
        assert own.status_code == 404
    anonymous = await shop.api.get(f"/v1/accounts/{shop.account_id}/sms")
    assert (anonymous.status_code, error_code(anonymous)) == (401, "unauthenticated")
    assert shop.counts() == (0, 0)


async def test_confirm_needs_the_billing_permission_too(shop):
    quote = (await shop.buy(ADDON, who=shop.biller)).json()
    refused = await shop.confirm(quote["purchase_id"], who=shop.plain)
    assert (refused.status_code, error_code(refused)) == (403, "billing_permission_required")
    assert shop.counts() == (0, 0)
    done = await shop.confirm(quote["purchase_id"], who=shop.biller)
    assert done.json()["status"] == "completed"


async def test_cancel_then_confirm(shop):
    quote = (await shop.buy(ADDON)).json()
    cancelled = await shop.cancel(quote["purchase_id"])
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    await keep_history(shop.handle(quote["purchase_id"]), "purchase/cancelled")
    late = await shop.confirm(quote["purchase_id"])
    assert (late.status_code, error_code(late)) == (409, "not_awaiting_confirmation")
    again = await shop.cancel(quote["purchase_id"])
    assert (again.status_code, error_code(again)) == (409, "not_awaiting_confirmation")
    assert shop.counts() == (0, 0)
    assert (await shop.get())["addon"]["status"] == "inactive"


async def test_an_expired_quote_cannot_be_confirmed(shop):
    quote = (await shop.buy(ADDON)).json()
    await shop.env.sleep(timedelta(minutes=31))
    expired = await shop.confirm(quote["purchase_id"])
    assert (expired.status_code, error_code(expired)) == (409, "quote_expired")
    await keep_history(shop.handle(quote["purchase_id"]), "purchase/expired")
    got = await shop.api.get(
        f"/v1/accounts/{shop.account_id}/sms/purchases/{quote['purchase_id']}", headers=shop.admin
    )
    assert got.json()["status"] == "expired"
    assert shop.counts() == (0, 0)


async def test_confirming_a_completed_purchase_charges_nothing_more(shop_on_every_database):
    shop = shop_on_every_database
    done = await shop.bought(ADDON)
    again = await shop.confirm(done["purchase_id"])
    assert (again.status_code, error_code(again)) == (409, "not_awaiting_confirmation")
    assert shop.counts() == (1, 1)


async def test_a_declined_card_grants_nothing(time_skipping_env, sqlite_sessions, sqlite_url):
    async with open_shop(
        time_skipping_env, sqlite_sessions, sqlite_url, payment_method="pm_card_chargeDeclined"
    ) as shop:
        quote = (await shop.buy(ADDON)).json()
        declined = await shop.confirm(quote["purchase_id"])
        assert (declined.status_code, error_code(declined)) == (402, "payment_declined")
        await keep_history(shop.handle(quote["purchase_id"]), "purchase/declined")
        page = await shop.get()
        assert page["addon"]["status"] == "inactive"
        assert page["credits"]["balance"] == 0
        assert (await shop.get("/ledger"))["entries"] == []
        payments = (await shop.get("/payments"))["payments"]
        assert [(p["kind"], p["status"]) for p in payments] == [("capture", "declined")]
        got = await shop.api.get(
            f"/v1/accounts/{shop.account_id}/sms/purchases/{quote['purchase_id']}",
            headers=shop.admin,
        )
        assert got.json()["status"] == "declined"


async def test_four_concurrent_confirms_charge_and_grant_once(shop):
    quote = (await shop.buy(ADDON)).json()
    responses = await asyncio.gather(*(shop.confirm(quote["purchase_id"]) for _ in range(4)))
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 200 and set(codes) <= {200, 409}, [r.text for r in responses]
    assert shop.counts() == (1, 1)
    assert shop.balance() == 1000


async def test_the_same_idempotency_key_gives_one_purchase(shop_on_every_database):
    shop = shop_on_every_database
    key = "click-1"
    first, second = await asyncio.gather(shop.buy(ADDON, key=key), shop.buy(ADDON, key=key))
    assert first.status_code == second.status_code == 201
    assert first.json()["purchase_id"] == second.json()["purchase_id"]
    assert first.json()["quote"] == second.json()["quote"]
    reused = await shop.buy(PACK, key=key)
    assert (reused.status_code, error_code(reused)) == (409, "conflict")
    other = await shop.buy(ADDON, key="click-2")
    assert other.json()["purchase_id"] != first.json()["purchase_id"]
    await shop.confirm(first.json()["purchase_id"])
    replay = await shop.buy(ADDON, key=key)
    assert replay.status_code == 201
    assert replay.json()["status"] == "completed"
    assert shop.counts() == (1, 1)


async def test_a_flaky_gateway_answer_is_charged_once(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(
        time_skipping_env, sqlite_sessions, sqlite_url, payment_method="pm_card_flaky"
    ) as shop:
        done = await shop.bought(ADDON)
        assert done["payment"]["amount_minor"] == done["quote"]["due_now_minor"]
        assert shop.counts() == (1, 1)
        payments = (await shop.get("/payments"))["payments"]
        assert len(payments) == 1


async def test_no_worker_answers_503_and_a_retry_gets_the_quote(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(
        time_skipping_env, sqlite_sessions, sqlite_url, worker=False, sms_api_wait_seconds=1
    ) as shop:
        key = "while-the-worker-was-down"
        waiting = await shop.buy(ADDON, key=key)
        assert (waiting.status_code, error_code(waiting)) == (503, "service_unavailable")
        purchase_id = waiting.json()["error"]["purchase_id"]
        async with running_worker(shop.env.client, sqlite_sessions, shop.task_queue):
            retried = await shop.buy(ADDON, key=key)
            assert retried.status_code == 201, retried.text
            assert retried.json()["purchase_id"] == purchase_id
            assert retried.json()["status"] == "awaiting_confirmation"
            done = await shop.confirm(purchase_id)
        assert done.json()["status"] == "completed"
        assert shop.counts() == (1, 1)

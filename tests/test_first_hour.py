"""Small things a new user notices in the first hour (one moment, one code)."""

from __future__ import annotations

import pytest

from tests.purchase_support import open_shop


@pytest.fixture
async def shop(time_skipping_env, sqlite_sessions, sqlite_url):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        yield shop


async def test_a_purchase_has_one_created_at(shop):
    created = await shop.buy({"type": "addon", "tier": "sms-1000"})
    assert created.status_code == 201, created.text
    body = created.json()
    read = await shop.get(f"/purchases/{body['purchase_id']}")
    assert read["created_at"] == body["created_at"]
    done = await shop.confirm(body["purchase_id"])
    assert done.json()["created_at"] == body["created_at"]
    listed = (await shop.get("/purchases"))["purchases"]
    assert [p["created_at"] for p in listed] == [body["created_at"]]


async def test_an_unknown_tier_has_one_code(shop):
    refused = await shop.buy({"type": "addon", "tier": "sms-9999"})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["purchase"]["failure"]["code"] == "invalid_request"
    assert error["purchase"]["status"] == "rejected"


async def test_pending_quotes_can_be_found_without_their_id(shop):
    quote = (await shop.buy({"type": "addon", "tier": "sms-1000"})).json()
    pending = (await shop.get("/purchases?status=awaiting_confirmation"))["purchases"]
    assert [p["purchase_id"] for p in pending] == [quote["purchase_id"]]
    assert (await shop.get("/purchases?status=completed"))["purchases"] == []


async def test_a_confirm_retried_with_its_key_answers_the_first_result(shop):
    quote = (await shop.buy({"type": "addon", "tier": "sms-1000"})).json()
    path = f"/v1/accounts/{shop.account_id}/sms/purchases/{quote['purchase_id']}/confirm"
    keyed = {**shop.admin, "Idempotency-Key": "confirm-click-1"}
    first = await shop.api.post(path, headers=keyed)
    again = await shop.api.post(path, headers=keyed)  # the first answer was "lost"
    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["status"] == "completed"
    assert again.json()["payment"] == first.json()["payment"]
    other = await shop.api.post(path, headers={**shop.admin, "Idempotency-Key": "click-2"})
    assert other.status_code == 409  # a new confirm of a completed purchase: nothing more
    assert shop.counts() == (1, 1)

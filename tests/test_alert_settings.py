"""Alert settings and the events feed through the real API (no workflow involved):
validation, the webhook secret shown once, and a low-balance event once per crossing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.enums import BillingCycle, Currency
from outbound.webhook_signing import is_secret
from store.models import Account
from tests.event_support import active_account, events, put_settings, send, top_up
from tests.support import api_client, catalogue, settings_for

NOW = datetime.now(UTC)


async def test_settings_round_trip_and_the_secret_is_shown_once(sessions, database_url):
    account = active_account(sessions, 1000, NOW)
    async with api_client(settings_for(database_url), None) as api:
        empty = await api.get(account.path("/settings"), headers=account.admin)
        assert empty.json() == {
            "low_balance_threshold": None,
            "auto_top_up": None,
            "webhook_url": None,
        }
        body = {
            "low_balance_threshold": 100,
            "auto_top_up": {"pack": "pack-500", "below": 100, "max_per_month": 3},
            "webhook_url": "https://hooks.example.test/sms",
        }
        first = await put_settings(api, account, body)
        assert is_secret(first["webhook_secret"])  # whsec_ and standard base64
        assert first["auto_top_up"] == {
            "pack": "pack-500",
            "below": 100,
            "max_per_month": 3,
            "credits": 500,
            "price_minor": first["auto_top_up"]["price_minor"],
            "currency": "USD",
        }
        assert first["auto_top_up"]["price_minor"] > 0
        again = await put_settings(api, account, {**body, "webhook_url": "https://b.example.test/"})
        assert again["webhook_secret"] is None  # the same secret signs the new URL
        shown = (await api.get(account.path("/settings"), headers=account.admin)).json()
        assert "webhook_secret" not in shown and shown["webhook_url"] == "https://b.example.test/"
        off = await put_settings(
            api,
            account,
            {"low_balance_threshold": None, "auto_top_up": None, "webhook_url": None},
        )
        assert off == {**empty.json(), "webhook_secret": None}
        back_on = await put_settings(api, account, {"webhook_url": "https://c.example.test/"})
        assert back_on["webhook_secret"] not in (None, first["webhook_secret"])  # rotated


async def test_auto_top_up_is_priced_in_the_accounts_currency(sqlite_sessions, sqlite_url):
    account = active_account(sqlite_sessions, 10, NOW)
    with sqlite_sessions.begin() as session:  # an account in reais from the start
        row = session.get(Account, account.account_id)
        assert row is not None
        row.currency = Currency.BRL.value
    pack = catalogue().credit_pack("pack-500", Currency.BRL)
    assert pack is not None
    body = {"auto_top_up": {"pack": "pack-500", "below": 5, "max_per_month": 1}}
    async with api_client(settings_for(sqlite_url), None) as api:
        saved = await put_settings(api, account, body)
    assert (saved["auto_top_up"]["currency"], saved["auto_top_up"]["price_minor"]) == (
        "BRL",
        pack.price_minor(BillingCycle.MONTHLY),
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"webhook_url": "ftp://hooks.example.test/"}, "webhook_url"),
        ({"webhook_url": "http://127.0.0.1:9/hook"}, "webhook_url"),
        ({"webhook_url": "http://10.1.2.3/hook"}, "webhook_url"),
        ({"webhook_url": "http://169.254.169.254/latest"}, "webhook_url"),
        ({"webhook_url": "http://[::1]/hook"}, "webhook_url"),
        ({"webhook_url": "http://localhost/hook"}, "webhook_url"),
        # Loopback however it is written: IPv4 forms, and IPv6 that embeds it.
        ({"webhook_url": "http://[::127.0.0.1]/"}, "webhook_url"),
        ({"webhook_url": "http://[64:ff9b::7f00:1]/"}, "webhook_url"),
        ({"webhook_url": "http://[2002:7f00:1::]/"}, "webhook_url"),
        ({"webhook_url": "http://[::ffff:7f00:1]/"}, "webhook_url"),
        ({"webhook_url": "http://2130706433/"}, "webhook_url"),
        ({"webhook_url": "http://0x7f000001/"}, "webhook_url"),
        ({"webhook_url": "http://0177.0.0.1/"}, "webhook_url"),
        ({"webhook_url": "http://127.1/"}, "webhook_url"),
        ({"webhook_url": "http://100.64.0.1/"}, "webhook_url"),
        ({"webhook_url": "http://[fd00::1]/"}, "webhook_url"),
        ({"auto_top_up": {"pack": "pack-7", "below": 1, "max_per_month": 1}}, "auto_top_up"),
        ({"auto_top_up": {"pack": "pack-500", "below": 1, "max_per_month": 0}}, "auto_top_up"),
        ({"low_balance_threshold": "100"}, "low_balance_threshold"),
        ({"low_balance_threshold": 0}, "low_balance_threshold"),
    ],
)
async def test_refused_settings(sqlite_sessions, sqlite_url, body, field):
    account = active_account(sqlite_sessions, 10, NOW)
    settings = settings_for(sqlite_url, sms_webhook_allow_private=False)
    async with api_client(settings, None) as api:
        response = await api.put(account.path("/settings"), json=body, headers=account.admin)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in response.text
    if field == "webhook_url":  # the message names the field and says why
        assert "webhook_url" in error["message"] and len(error["message"]) > 40
        assert error["details"] == [
            {"field": "webhook_url", "message": error["details"][0]["message"]}
        ]


async def test_private_addresses_are_allowed_when_the_setting_says_so(sqlite_sessions, sqlite_url):
    account = active_account(sqlite_sessions, 10, NOW)
    async with api_client(settings_for(sqlite_url), None) as api:  # the tests allow them
        saved = await put_settings(api, account, {"webhook_url": "http://127.0.0.1:9/hook"})
    assert saved["webhook_url"] == "http://127.0.0.1:9/hook"


async def test_only_billing_users_see_or_change_settings_and_events(sqlite_sessions, sqlite_url):
    account = active_account(sqlite_sessions, 10, NOW)
    async with api_client(settings_for(sqlite_url), None) as api:
        for method, path in [("PUT", "/settings"), ("GET", "/settings"), ("GET", "/events")]:
            body = {"low_balance_threshold": 5} if method == "PUT" else None
            answer = await api.request(method, account.path(path), json=body, headers=account.plain)
            assert answer.status_code == 403, answer.text
            assert answer.json()["error"]["code"] == "billing_permission_required"


async def test_low_balance_once_per_crossing_and_again_after_a_grant(sessions, database_url):
    account = active_account(sessions, 400, NOW)
    async with api_client(settings_for(database_url), None) as api:
        await put_settings(api, account, {"low_balance_threshold": 100})
        for _ in range(3):  # 400 → 280 → 160 → 40: the third send crosses
            assert (await send(api, account, 30)).status_code == 200
        assert (await send(api, account, 5)).status_code == 200  # below already: no event
        crossed = await events(api, account)
        assert [e["type"] for e in crossed] == ["low_balance"]
        assert crossed[0]["data"] == {"balance": 40, "threshold": 100}
        top_up(sessions, account.account_id, 500, key="next-month")  # 20 → 520: re-armed
        assert (await send(api, account, 110)).status_code == 200  # 520 → 80: crosses again
        again = await events(api, account)
    assert [e["type"] for e in again] == ["low_balance", "low_balance"]
    assert again[0]["data"]["balance"] == 80  # newest first
    assert again[0]["event_id"] != again[1]["event_id"]

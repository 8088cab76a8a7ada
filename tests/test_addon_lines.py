"""The add-on over its life through the HTTP API: resume a cancel, end a credit pack at
the next renewal, the recurring lines, and sends that need an active add-on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.enums import AddonStatus, GrantSource
from store.db import transaction
from store.ledger import grant_credits
from tests.invariants import check_money
from tests.purchase_support import Shop, open_shop
from tests.support import (
    add_addon_row,
    api_client,
    bearer,
    create_account,
    create_user,
    keep_history,
    settings_for,
)
from tests.test_tier_change import code, go_past, moment, subscription

SMS_1000 = {"type": "addon", "tier": "sms-1000"}
PACK = {"type": "credit_pack", "pack": "pack-500"}
SEND = {"country": "CA", "recipients": 10, "text": "Hello"}  # 10 credits


def path(shop: Shop, tail: str) -> str:
    return f"/v1/accounts/{shop.account_id}/sms{tail}"


async def post(shop: Shop, tail: str, who: dict[str, str] | None = None) -> Any:
    return await shop.api.post(path(shop, tail), headers=who or shop.admin)


async def test_resume_takes_a_cancel_back_and_the_renewal_charges_as_before(
    time_skipping_env, sessions, database_url
):
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        not_yet = await post(shop, "/addon/resume")
        assert (not_yet.status_code, code(not_yet)) == (409, "addon_not_cancelling")
        await shop.bought(SMS_1000)
        before = (await shop.get())["addon"]
        active = await post(shop, "/addon/resume")
        assert (active.status_code, code(active)) == (409, "addon_not_cancelling")
        assert (await post(shop, "/addon/cancel")).status_code == 200
        plain = await post(shop, "/addon/resume", who=shop.plain)
        assert (plain.status_code, code(plain)) == (403, "billing_permission_required")

        resumed = await post(shop, "/addon/resume", who=shop.biller)
        assert resumed.status_code == 200, resumed.text
        assert resumed.json() == {"status": "active"}
        again = await post(shop, "/addon/resume")
        assert (again.status_code, code(again)) == (409, "addon_not_cancelling")
        after = (await shop.get())["addon"]
        assert after == before  # as it was: same end of period, next charge and lines
        assert shop.counts() == (1, 1)  # nothing charged by the resume

        end = moment(after["period_end"])
        await go_past(shop, end)
        addon = (await shop.get())["addon"]
        assert (addon["status"], addon["ends_at"]) == ("active", None)
        payments = (await shop.get("/payments"))["payments"]
        assert [p["amount_minor"] for p in payments] == [1800, 1800]
        assert shop.balance() == 1000
        assert check_money(shop.sessions, shop.account_id) == {"completed": 1}
        await keep_history(subscription(shop), "subscription/resumed")


async def test_an_ended_pack_drops_out_at_the_next_renewal(
    time_skipping_env, sessions, database_url
):
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        addon_purchase = await shop.bought(SMS_1000)
        pack_purchase = await shop.bought(PACK)
        addon = (await shop.get())["addon"]
        assert addon["lines"] == [
            {
                "line_id": addon_purchase["purchase_id"],
                "kind": "tier",
                "item_id": "sms-1000",
                "credits_per_month": 1000,
                "price_minor": 1800,
                "ends_at": None,
                "starts_at": None,
            },
            {
                "line_id": pack_purchase["purchase_id"],
                "kind": "credit_pack",
                "item_id": "pack-500",
                "credits_per_month": 500,
                "price_minor": 900,
                "ends_at": None,
                "starts_at": None,
            },
        ]
        end = moment(addon["period_end"])
        tier = await post(shop, f"/lines/{addon_purchase['purchase_id']}/cancel")
        assert (tier.status_code, code(tier)) == (409, "conflict")
        unknown = await post(shop, "/lines/pur_nothing/cancel")
        assert (unknown.status_code, code(unknown)) == (404, "not_found")
        plain = await post(shop, f"/lines/{pack_purchase['purchase_id']}/cancel", shop.plain)
        assert (plain.status_code, code(plain)) == (403, "billing_permission_required")

        for _ in range(2):  # repeating it answers the same end
            ended = await post(shop, f"/lines/{pack_purchase['purchase_id']}/cancel")
            assert ended.status_code == 200, ended.text
            assert ended.json()["item_id"] == "pack-500"
            assert moment(ended.json()["ends_at"]) == end
        addon = (await shop.get())["addon"]
        assert (addon["monthly_credits"], addon["next_charge_minor"]) == (1500, 1800)
        assert shop.balance() == 1500  # its credits stay until the renewal

        await go_past(shop, end)
        addon = (await shop.get())["addon"]
        assert [line["item_id"] for line in addon["lines"]] == ["sms-1000"]
        assert (addon["monthly_credits"], addon["next_charge_minor"]) == (1000, 1800)
        payments = (await shop.get("/payments"))["payments"]
        assert [p["amount_minor"] for p in payments] == [1800, 900, 1800]
        assert shop.balance() == 1000
        gone = await post(shop, f"/lines/{pack_purchase['purchase_id']}/cancel")
        assert (gone.status_code, code(gone)) == (404, "not_found")
        assert check_money(shop.sessions, shop.account_id) == {"completed": 2}
        await keep_history(subscription(shop), "subscription/pack_ended")


@pytest.mark.parametrize(
    ("status", "sends"),
    [
        (None, False),
        (AddonStatus.INACTIVE, False),
        (AddonStatus.PAST_DUE, False),
        (AddonStatus.SUSPENDED, False),
        (AddonStatus.CANCELLED, False),
        (AddonStatus.CANCELLING, True),
        (AddonStatus.ACTIVE, True),
    ],
)
async def test_sending_needs_an_active_addon(sessions, database_url, status, sends):
    now = datetime.now(UTC)
    account_id = f"send-{status or 'none'}".replace("_", "-")
    create_account(sessions, account_id, anchor=now.date(), now=now)
    if status is not None:
        add_addon_row(sessions, account_id, now=now, status=status)
    token = create_user(sessions, account_id, "ana", now=now)
    with transaction(sessions) as session:  # credits left over: still not spendable
        grant_credits(
            session,
            account_id=account_id,
            source=GrantSource.ADJUSTMENT,
            credits=100,
            expires_at=now + timedelta(days=5),
            at=now,
            reference="left over",
            key=f"{account_id}:left-over",
        )
    async with api_client(settings_for(database_url), None) as api:
        sent = await api.post(
            f"/v1/accounts/{account_id}/sms/usage", json=SEND, headers=bearer(token)
        )
    if sends:
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"credits_debited": 10, "balance": 90}
    else:
        assert (sent.status_code, code(sent)) == (409, "addon_not_active")
    check_money(sessions, account_id)

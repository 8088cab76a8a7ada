"""Purchases of one account never race (API.md, DESIGN.md §5): every pair that can
meet on one account, on SQLite and PostgreSQL, with the money invariants checked after.

The rule under test: a confirmed purchase claims its item under the account's lock
before any money moves, so the loser of a race is refused and never charged.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.purchase import ClaimRequest
from domain.calendar import credit_month
from domain.enums import ItemType, Plan, Role
from domain.errors import DomainError, ErrorCode
from domain.purchase import PurchaseItem
from store.db import transaction
from store.models import Purchase
from store.purchases import claim_item, new_purchase_id
from tests.invariants import check_money
from tests.purchase_support import open_shop, purchase_row
from tests.support import (
    ADMIN_TOKEN,
    bearer,
    catalogue,
    create_account,
    create_user,
    keep_history,
)

SMALL = {"type": "addon", "tier": "sms-500"}
LARGE = {"type": "addon", "tier": "sms-1000"}
PACK = {"type": "credit_pack", "pack": "pack-500"}


def code(response) -> str:
    return str(response.json()["error"]["code"])


@pytest.fixture
async def shop(time_skipping_env, sessions, database_url):
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        yield shop


async def quoted(shop, item) -> str:
    response = await shop.buy(item)
    assert response.status_code == 201, response.text
    return str(response.json()["purchase_id"])


async def test_two_addons_confirmed_at_once_charge_once(shop):
    small, large = await quoted(shop, SMALL), await quoted(shop, LARGE)
    answers = await asyncio.gather(shop.confirm(small), shop.confirm(large))
    won = [a for a in answers if a.status_code == 200]
    lost = [a for a in answers if a.status_code != 200]
    assert len(won) == 1 and len(lost) == 1, [a.text for a in answers]
    assert (lost[0].status_code, code(lost[0])) == (409, "addon_already_active")
    assert lost[0].json()["error"]["purchase"]["payment"] is None
    loser = lost[0].json()["error"]["purchase"]["purchase_id"]
    await keep_history(shop.handle(loser), "purchase/claim_refused")
    winner = won[0].json()
    page = await shop.get()
    assert page["addon"]["tier"] == winner["item"]["tier"]
    outcomes = check_money(shop.sessions, shop.account_id)
    assert outcomes == {"completed": 1, "rejected": 1}
    payments = (await shop.get("/payments"))["payments"]
    assert [p["amount_minor"] for p in payments] == [winner["payment"]["amount_minor"]]


async def test_a_pack_confirmed_with_an_addon_cancel(shop):
    await shop.bought(LARGE)
    pack = await quoted(shop, PACK)
    cancel = shop.api.post(f"/v1/accounts/{shop.account_id}/sms/addon/cancel", headers=shop.admin)
    confirmed, cancelled = await asyncio.gather(shop.confirm(pack), cancel)
    assert cancelled.status_code == 200, cancelled.text
    # Either order is a fair history: the pack before the cancel (it is paid to the
    # period's end, when the add-on ends), or after it (refused, never charged).
    if confirmed.status_code != 200:
        assert (confirmed.status_code, code(confirmed)) == (409, "addon_not_active")
    outcomes = check_money(shop.sessions, shop.account_id)
    assert outcomes["completed"] == (2 if confirmed.status_code == 200 else 1)


async def test_a_pack_confirmed_after_the_cancel_is_refused_uncharged(shop):
    await shop.bought(LARGE)
    pack = await quoted(shop, PACK)
    cancelled = await shop.api.post(
        f"/v1/accounts/{shop.account_id}/sms/addon/cancel", headers=shop.admin
    )
    assert cancelled.status_code == 200, cancelled.text
    refused = await shop.confirm(pack)
    assert (refused.status_code, code(refused)) == (409, "addon_not_active")
    assert check_money(shop.sessions, shop.account_id) == {"completed": 1, "rejected": 1}


async def test_a_pack_confirmed_with_a_move_to_starter(shop):
    await shop.bought(LARGE)
    pack = await quoted(shop, PACK)
    move = shop.api.put(
        f"/v1/admin/accounts/{shop.account_id}",
        json={"plan": "starter"},
        headers=bearer(ADMIN_TOKEN),
    )
    confirmed, moved = await asyncio.gather(shop.confirm(pack), move)
    assert moved.status_code == 200, moved.text
    if confirmed.status_code != 200:
        assert (confirmed.status_code, code(confirmed)) == (409, "plan_not_eligible")
    check_money(shop.sessions, shop.account_id)
    again = await shop.buy(PACK)  # on Starter now: refused before any quote
    assert (again.status_code, code(again)) == (409, "plan_not_eligible")


async def test_a_quote_from_before_a_renewal_is_stale_after_it(
    time_skipping_env, sessions, database_url
):
    """Priced for the ending month, a pack confirmed after the renewal would pay a few
    days for a whole new month: the claim refuses it as expired, uncharged."""
    now = await time_skipping_env.get_current_time()
    tomorrow = (now + timedelta(days=1)).date()
    anchor = date(tomorrow.year - (tomorrow.month == 1), (tomorrow.month - 2) % 12 + 1, 1)
    anchor = anchor.replace(day=min(tomorrow.day, 28))
    async with open_shop(
        time_skipping_env, sessions, database_url, anchor=anchor, sms_quote_ttl_seconds=3 * 86400
    ) as shop:
        await shop.bought(LARGE)
        month_end = credit_month(anchor, now).end
        pack = await quoted(shop, PACK)
        await shop.env.sleep(month_end - now + timedelta(hours=1))
        stale = await shop.confirm(pack)
        assert (stale.status_code, code(stale)) == (409, "quote_expired")
        got = (await shop.get(f"/purchases/{pack}"))["status"]
        assert got == "expired"
        assert check_money(shop.sessions, shop.account_id) == {"completed": 1, "expired": 1}


def test_concurrent_claims_of_the_addon_admit_one(sessions):
    """The claim itself, from many threads at once: exactly one add-on claim wins, and
    a pack claimed while it is in flight is refused. On PostgreSQL this proves the row
    lock; without it several claims would pass."""
    now = datetime.now(UTC)
    account_id = f"race-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, plan=Plan.PLUS, anchor=now.date(), now=now)
    create_user(sessions, account_id, "ana", role=Role.PRIMARY_ADMIN, now=now)
    items = [PurchaseItem(type=ItemType.ADDON, tier="sms-500") for _ in range(12)]
    ids = [new_purchase_id() for _ in items]
    with transaction(sessions) as session:
        for purchase_id, item in zip(ids, items, strict=True):
            session.add(purchase_row(purchase_id, account_id, item, "processing", now))
    shop_catalogue = catalogue()
    refusals: list[ErrorCode] = []
    start = threading.Barrier(len(ids))

    def claim(purchase_id: str, item: PurchaseItem) -> None:
        request = ClaimRequest(
            account_id=account_id,
            purchase_id=purchase_id,
            item=item,
            quote_month_end=now + timedelta(days=1),
            at=now,
        )
        start.wait()
        try:
            with transaction(sessions) as session:
                claim_item(session, request, shop_catalogue)
        except DomainError as refusal:
            refusals.append(refusal.code)

    threads = [threading.Thread(target=claim, args=pair) for pair in zip(ids, items, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refusals == [ErrorCode.ADDON_ALREADY_ACTIVE] * (len(ids) - 1)
    with sessions() as session:
        claimed = [p for p in ids if session.get(Purchase, p).claimed_at is not None]
    assert len(claimed) == 1

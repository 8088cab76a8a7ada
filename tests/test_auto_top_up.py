"""Auto top-up cannot charge in a loop (DESIGN.md §1): the real API, worker, Temporal
dev server and database (SQLite; PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contracts.events import top_up_workflow_id
from domain.events import TopUpStatus
from store.db import transaction
from store.models import Account as AccountRow
from store.models import Payment
from tests.event_support import (
    Account,
    active_account,
    events,
    put_settings,
    send,
    settled,
    top_ups,
)
from tests.invariants import check_money
from tests.support import api_client, keep_history, running_worker, settings_for

STORM = 50
TOP_UP = {"pack": "pack-500", "below": 100, "max_per_month": 3}


def captures(sessions: sessionmaker[Session], account_id: str) -> list[Payment]:
    with sessions() as session:
        query = select(Payment).where(Payment.account_id == account_id, Payment.kind == "capture")
        return list(session.scalars(query))


async def payments_listed(api: httpx.AsyncClient, account: Account) -> Counter[str]:
    listed = await api.get(account.path("/payments"), headers=account.admin)
    assert listed.status_code == 200, listed.text
    return Counter(p["payment_id"] for p in listed.json()["payments"])


async def drain(api: httpx.AsyncClient, account: Account, sessions: sessionmaker[Session]) -> None:
    """Spend until 50-53 credits are left (below the trigger of 100), or 4 more."""
    with sessions() as session:
        row = session.get(AccountRow, account.account_id)
        assert row is not None
        balance = row.credit_balance
    answer = await send(api, account, max(1, (balance - 50) // 4))
    assert answer.status_code == 200, answer.text


async def test_a_storm_of_debits_crossing_the_trigger_buys_one_top_up(
    dev_env, sessions, database_url
):
    account = active_account(sessions, STORM * 4, datetime.now(UTC))
    settings = settings_for(database_url)
    async with (
        running_worker(dev_env.client, sessions, settings.sms_task_queue),
        api_client(settings, dev_env.client) as api,
    ):
        await put_settings(api, account, {"low_balance_threshold": 150, "auto_top_up": TOP_UP})
        sent = await asyncio.gather(*(send(api, account, 1) for _ in range(STORM)))
        assert [r.status_code for r in sent] == [200] * STORM
        rows = await settled(sessions, account.account_id)
        assert [r.status for r in rows] == [TopUpStatus.COMPLETED]
        charges = captures(sessions, account.account_id)
        assert [(c.status, c.amount_minor) for c in charges] == [
            ("succeeded", rows[0].amount_minor)
        ]
        assert (await payments_listed(api, account))[charges[0].payment_id] == 1
        feed = await events(api, account)
        assert Counter(e["type"] for e in feed) == {"low_balance": 1, "top_up.completed": 1}
        assert account_balance(sessions, account) == 500  # 200 spent, 500 granted
        if database_url.startswith("sqlite"):
            handle = dev_env.client.get_workflow_handle(
                top_up_workflow_id(account.account_id, rows[0].top_up_id)
            )
            await keep_history(handle, "auto_top_up/completed")
    check_money(sessions, account.account_id)


def account_balance(sessions: sessionmaker[Session], account: Account) -> int:
    with sessions() as session:
        row = session.get(AccountRow, account.account_id)
        assert row is not None
        return row.credit_balance


async def test_repeated_drains_never_buy_more_than_the_monthly_cap(dev_env, sessions, database_url):
    account = active_account(sessions, 400, datetime.now(UTC))
    settings = settings_for(database_url)
    async with (
        running_worker(dev_env.client, sessions, settings.sms_task_queue),
        api_client(settings, dev_env.client) as api,
    ):
        await put_settings(api, account, {"auto_top_up": {**TOP_UP, "max_per_month": 2}})
        for _ in range(5):
            await drain(api, account, sessions)
            await settled(sessions, account.account_id)
        rows = top_ups(sessions, account.account_id)
        assert [(r.status, r.sequence) for r in rows] == [("completed", 0), ("completed", 1)]
        charges = captures(sessions, account.account_id)
        assert len(charges) == 2 and {c.status for c in charges} == {"succeeded"}
        listed = await payments_listed(api, account)
        assert all(listed[c.payment_id] == 1 for c in charges)
        saved = (await api.get(account.path("/settings"), headers=account.admin)).json()
        assert saved["auto_top_up"]["max_per_month"] == 2  # still on: the cap, not a decline
    check_money(sessions, account.account_id)


async def test_a_card_that_starts_declining_is_tried_once_then_auto_top_up_is_off(
    dev_env, sessions, database_url
):
    account = active_account(sessions, 400, datetime.now(UTC))
    settings = settings_for(database_url)
    async with (
        running_worker(dev_env.client, sessions, settings.sms_task_queue),
        api_client(settings, dev_env.client) as api,
    ):
        await put_settings(api, account, {"auto_top_up": TOP_UP})
        await drain(api, account, sessions)
        assert [r.status for r in await settled(sessions, account.account_id)] == ["completed"]
        with transaction(sessions) as session:
            row = session.get(AccountRow, account.account_id)
            assert row is not None
            row.payment_method = "pm_card_chargeDeclined"
        await drain(api, account, sessions)
        rows = await settled(sessions, account.account_id)
        assert [r.status for r in rows] == ["completed", "declined"]
        for _ in range(3):  # auto top-up is off: draining further buys nothing
            assert (await send(api, account, 1)).status_code == 200
        assert len(top_ups(sessions, account.account_id)) == 2
        saved = (await api.get(account.path("/settings"), headers=account.admin)).json()
        assert saved["auto_top_up"] is None
        charges = captures(sessions, account.account_id)
        assert sorted(c.status for c in charges) == ["declined", "succeeded"]
        listed = await payments_listed(api, account)
        assert all(listed[c.payment_id] == 1 for c in charges)
        feed = await events(api, account)
        assert [e["type"] for e in feed] == ["top_up.declined", "top_up.completed"]
        assert feed[0]["data"]["reason"] == "Your card was declined."
        if database_url.startswith("sqlite"):
            handle = dev_env.client.get_workflow_handle(
                top_up_workflow_id(account.account_id, rows[1].top_up_id)
            )
            await keep_history(handle, "auto_top_up/declined")
    check_money(sessions, account.account_id)

"""The reconciler: what lost workflows leave behind, made directly in the database (or
by a purchase whose subscription could not be started), settled by one pass of the
real ``SmsReconciler`` workflow on the dev server, counted in
``sms_reconciler_actions_total{action}``; a second pass finds nothing more."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, date, datetime, timedelta

from prometheus_client import REGISTRY
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import ScheduleActionStartWorkflow

import worker
from config.reconciler import ensure_reconciler
from contracts.operator import operator_refund_workflow_id
from contracts.purchase import payment_key, refund_key
from contracts.reconciler import RECONCILER_SCHEDULE
from contracts.subscription import STATE_QUERY, subscription_workflow_id
from domain.addon import AddonState
from domain.enums import AddonStatus, PurchaseStatus
from payments.attempts import PENDING
from store.db import transaction
from store.models import Payment, Purchase
from store.operator import record_refund_request
from store.operator_models import RefundRequest
from store.receipt_models import ReceiptRow
from tests.failure_support import refusing
from tests.invariants import check_money
from tests.purchase_support import open_shop
from tests.reconciler_support import (
    LONG_AGO,
    QUOTE_TTL,
    reconcile,
    reconciling,
    stuck_purchase,
)
from tests.support import (
    activity_deps,
    add_addon_row,
    create_account,
    sandbox_capture,
    settings_for,
)

ADDON = {"type": "addon", "tier": "sms-1000"}


def counted(action: str) -> float:
    return REGISTRY.get_sample_value("sms_reconciler_actions_total", {"action": action}) or 0.0


# -- an active add-on without its subscription ------------------------------------------


async def test_an_active_add_on_without_its_subscription_gets_it_back(
    dev_env, sqlite_sessions, sqlite_url
):
    env, before = dev_env, counted("subscription_restarted")
    async with open_shop(env, sqlite_sessions, sqlite_url, worker=False) as shop:
        deps = activity_deps(env.client, sqlite_sessions)
        lost_start = [refusing("start_subscription")]
        async with worker.build_worker(env.client, deps, shop.task_queue, stand_ins=lost_start):
            bought = await shop.bought(ADDON)  # paid and granted; its subscription never started
        subscription = env.client.get_workflow_handle(subscription_workflow_id(shop.account_id))
        async with reconciling(env.client, sqlite_sessions, shop.task_queue):
            await asyncio.sleep(1.5)  # past the grace given to a new add-on
            first = await reconcile(env.client, shop.task_queue, grace=timedelta(seconds=1))
            state: AddonState = await subscription.query(STATE_QUERY, result_type=AddonState)
            again = await reconcile(env.client, shop.task_queue, grace=timedelta(seconds=1))
            await subscription.terminate("test over")
    assert first.actions == {"subscription_restarted": 1} and first.left == 0
    assert (state.status, state.totals.monthly_credits) == (AddonStatus.ACTIVE, 1000)
    assert state.purchase_id == bought["purchase_id"]  # its tier line's purchase
    assert again.actions == {}
    assert counted("subscription_restarted") - before == 1


async def test_a_past_due_add_on_without_its_subscription_is_reported(
    dev_env, sqlite_sessions, sqlite_url, caplog
):
    now, before = datetime.now(UTC), counted("subscription_lost")
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sqlite_sessions, account_id, anchor=date(now.year, now.month, 1), now=now)
    add_addon_row(sqlite_sessions, account_id, now=now - LONG_AGO, status=AddonStatus.PAST_DUE)
    task_queue = settings_for(sqlite_url).sms_task_queue
    async with reconciling(dev_env.client, sqlite_sessions, task_queue):
        report = await reconcile(dev_env.client, task_queue)
    assert report.actions == {"subscription_lost": 1}
    assert counted("subscription_lost") - before == 1
    lost = [
        r for r in caplog.records if r.levelno == logging.ERROR and account_id in r.getMessage()
    ]
    assert len(lost) == 1


# -- purchases left unfinished ----------------------------------------------------------


def purchases_of(sessions: sessionmaker[Session], account_id: str) -> dict[str, Purchase]:
    with sessions() as session:
        rows = session.scalars(select(Purchase).where(Purchase.account_id == account_id))
        return {row.purchase_id: row for row in rows}


def payment_by_key(sessions: sessionmaker[Session], key: str) -> Payment | None:
    with sessions() as session:
        return session.scalars(select(Payment).where(Payment.idempotency_key == key)).first()


async def test_purchases_left_unfinished_are_settled_as_their_workflow_would_have(
    dev_env, sessions, database_url
):
    now = datetime.now(UTC)
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=now.date(), now=now)
    old, recent = now - LONG_AGO, now - QUOTE_TTL
    never_paid = stuck_purchase(sessions, account_id, PurchaseStatus.PROCESSING, old)
    declined = stuck_purchase(
        sessions, account_id, PurchaseStatus.PROCESSING, old, "pm_card_chargeDeclined"
    )
    paid = stuck_purchase(sessions, account_id, PurchaseStatus.PROCESSING, old, "pm_card_visa")
    unconfirmed = stuck_purchase(sessions, account_id, PurchaseStatus.AWAITING_CONFIRMATION, old)
    unknown = stuck_purchase(sessions, account_id, PurchaseStatus.PROCESSING, old, PENDING)
    in_grace = stuck_purchase(sessions, account_id, PurchaseStatus.PROCESSING, recent)
    before = {a: counted(a) for a in ("purchase_failed", "purchase_refunded", "purchase_expired")}
    task_queue = settings_for(database_url).sms_task_queue
    history = "reconciler/purchases" if database_url.startswith("sqlite") else None
    async with reconciling(dev_env.client, sessions, task_queue):
        first = await reconcile(dev_env.client, task_queue, history=history)
        again = await reconcile(dev_env.client, task_queue)
    rows = purchases_of(sessions, account_id)
    assert first.actions == {"purchase_failed": 2, "purchase_refunded": 1, "purchase_expired": 1}
    assert again.actions == {} and first.left == again.left == 0
    assert {a: counted(a) - n for a, n in before.items()} == {
        "purchase_failed": 2,
        "purchase_refunded": 1,
        "purchase_expired": 1,
    }
    outcome = {pid: (rows[pid].status, rows[pid].failure_code) for pid in rows}
    assert outcome == {
        never_paid: ("failed", "interrupted"),
        declined: ("failed", "interrupted"),
        paid: ("refunded", "grant_failed"),
        unconfirmed: ("expired", "quote_expired"),
        unknown: ("processing", None),  # the payment janitor learns its outcome first
        in_grace: ("processing", None),
    }
    refund = payment_by_key(sessions, refund_key(paid))
    assert refund is not None and refund.status == "succeeded" and refund.amount_minor == 1800
    assert rows[paid].payment_id is not None and rows[paid].completed_at is not None
    with transaction(sessions) as session:  # the janitor found it declined: then it is settled
        pending = session.scalars(
            select(Payment).where(Payment.idempotency_key == payment_key(unknown))
        ).one()
        pending.status = "declined"
    async with reconciling(dev_env.client, sessions, task_queue):
        last = await reconcile(dev_env.client, task_queue)
    assert last.actions == {"purchase_failed": 1}
    with transaction(sessions) as session:  # its quote's time has not run out
        session.delete(session.get(Purchase, in_grace))
    assert check_money(sessions, account_id) == {"failed": 3, "refunded": 1, "expired": 1}


async def test_a_purchase_whose_refund_is_refused_needs_attention(
    dev_env, sessions, database_url, caplog
):
    now = datetime.now(UTC)
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=now.date(), now=now)
    paid = stuck_purchase(
        sessions, account_id, PurchaseStatus.PROCESSING, now - LONG_AGO, "pm_card_visa"
    )
    before = counted("purchase_needs_attention")
    task_queue = settings_for(database_url).sms_task_queue
    async with reconciling(dev_env.client, sessions, task_queue, refunds=False):
        report = await reconcile(dev_env.client, task_queue)
    row = purchases_of(sessions, account_id)[paid]
    assert report.actions == {"purchase_needs_attention": 1}
    assert (row.status, row.failure_code) == ("needs_attention", "refund_failed")
    assert counted("purchase_needs_attention") - before == 1
    alerted = [r for r in caplog.records if r.levelno == logging.ERROR and paid in r.getMessage()]
    assert len(alerted) == 1
    assert check_money(sessions, account_id) == {"needs_attention": 1}


# -- operator refunds whose workflow never started ------------------------------------


def refund_request(sessions: sessionmaker[Session], account_id: str, payment_id: str) -> int:
    """A refund request as the API records it, before it starts its workflow."""
    with transaction(sessions) as session:
        request = record_refund_request(
            session,
            account_id=account_id,
            key=f"r-{uuid.uuid4().hex[:6]}",
            payment_id=payment_id,
            amount_minor=600,
            revoke_credits=False,
            reason="late delivery",
            operator="olga",
            at=datetime.now(UTC) - LONG_AGO,
        )
        return request.id


async def test_a_refund_request_whose_workflow_never_started_is_run_or_released(
    dev_env, sessions, database_url
):
    now = datetime.now(UTC)
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=now.date(), now=now)
    capture, gone = (
        sandbox_capture(sessions, account_id, key=f"purchase:{n}-{account_id}", at=now - LONG_AGO)
        for n in (1, 2)
    )
    runnable = refund_request(sessions, account_id, capture.payment_id)
    orphan = refund_request(sessions, account_id, gone.payment_id)
    with transaction(sessions) as session:  # its capture is gone (a hand edit, a restore)
        session.execute(delete(ReceiptRow).where(ReceiptRow.payment_id == gone.payment_id))
        session.delete(session.get(Payment, gone.payment_id))
    before = {a: counted(a) for a in ("refund_started", "refund_released")}
    task_queue = settings_for(database_url).sms_task_queue
    async with reconciling(dev_env.client, sessions, task_queue):
        first = await reconcile(dev_env.client, task_queue)
        handle = dev_env.client.get_workflow_handle(
            operator_refund_workflow_id(account_id, runnable)
        )
        await handle.result()
        again = await reconcile(dev_env.client, task_queue)
    assert first.actions == {"refund_started": 1, "refund_released": 1}
    assert again.actions == {}
    assert {a: counted(a) - n for a, n in before.items()} == {
        "refund_started": 1,
        "refund_released": 1,
    }
    with sessions() as session:
        done, released = session.get(RefundRequest, runnable), session.get(RefundRequest, orphan)
        assert done is not None and released is not None
        assert (done.status, released.status) == ("refunded", "failed")
        refund = session.get(Payment, done.refund_payment_id)
        assert refund is not None and (refund.amount_minor, refund.refund_of) == (
            600,
            capture.payment_id,
        )


async def test_the_worker_keeps_the_reconciler_schedule_as_configured(dev_env):
    client = dev_env.client
    await ensure_reconciler(client, settings_for("sqlite://"))
    handle = client.get_schedule_handle(RECONCILER_SCHEDULE)
    try:
        changed = settings_for("sqlite://", sms_reconciler_every_seconds=120)
        await ensure_reconciler(client, changed)  # a second worker, newer settings
        described = await handle.describe()
        assert [i.every for i in described.schedule.spec.intervals] == [timedelta(seconds=120)]
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == "SmsReconciler"
    finally:
        await handle.delete()

"""A permanent failure at each step of the operator refund, the A2P 10DLC registration
and the auto top-up ends each in a recorded status, never as a Failed workflow
(listed by status from the dev server's visibility)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.auto_top_up import AutoTopUpActivities
from boundary.errors import Fault, refusal
from contracts.events import TopUpOutcome, TopUpSettlement, top_up_refund_key
from contracts.operator import RefundRequestStatus
from contracts.registration import RegistrationStep
from domain.events import TopUpStatus
from store.models import Payment
from store.operator_models import RefundRequest
from tests.event_support import Account, active_account, events, put_settings, send, settled
from tests.failure_support import closed_executions, refusing
from tests.invariants import check_money
from tests.operator_support import admin_post
from tests.registration_support import DETAILS, stack
from tests.support import (
    activity_deps,
    api_client,
    running_worker,
    sandbox_capture,
    settings_for,
)

TOP_UP = {"pack": "pack-500", "below": 100, "max_per_month": 3}


def errors_logged(caplog: pytest.LogCaptureFixture, words: str) -> int:
    return sum(1 for r in caplog.records if r.levelno == logging.ERROR and words in r.getMessage())


# -- the operator refund ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stand_ins", "request_status", "refunded", "alert"),
    [
        ([refusing("refund_operator_request", Fault.GATEWAY_REJECTED)], "failed", 0, None),
        ([refusing("settle_operator_refund")], "requested", 1, "needs attention"),
        (
            [
                refusing("refund_operator_request", Fault.GATEWAY_REJECTED),
                refusing("fail_operator_refund"),
            ],
            "requested",
            0,
            "stays requested",
        ),
    ],
    ids=["refund", "settle", "refund, then its release"],
)
async def test_an_operator_refund_ends_recorded_at_each_step(
    stand_ins, request_status, refunded, alert, dev_env, sessions, database_url, caplog
):
    account = active_account(sessions, 100, datetime.now(UTC))
    capture = sandbox_capture(
        sessions, account.account_id, key=f"purchase:{account.account_id}", at=datetime.now(UTC)
    )
    settings = settings_for(database_url)
    body = {"payment_id": capture.payment_id, "amount_minor": 600, "reason": "goodwill"}
    async with (
        running_worker(dev_env.client, sessions, settings.sms_task_queue, stand_ins),
        api_client(settings, dev_env.client) as api,
    ):
        answer = await admin_post(api, account.account_id, "/refunds", body, key="r-1")
        ran = await closed_executions(dev_env.client, account.account_id)
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "conflict")
    assert ran == {"SmsOperatorRefund": 1}
    with sessions() as session:
        (request,) = session.scalars(
            select(RefundRequest).where(RefundRequest.account_id == account.account_id)
        )
        refunds = session.scalars(select(Payment).where(Payment.refund_of == capture.payment_id))
        assert request.status == RefundRequestStatus(request_status)
        assert len(list(refunds)) == refunded
    if alert is not None:
        assert errors_logged(caplog, alert) == 1
    check_money(sessions, account.account_id)


# -- the A2P 10DLC registration ---------------------------------------------------------


async def test_a_registration_whose_record_is_refused_ends_failed(dev_env, sessions, database_url):
    stand_ins = [refusing("record_a2p_registration")]
    async with stack(dev_env, sessions, database_url, stand_ins) as reg:
        submitted = await reg.submit(DETAILS)
        result = await reg.finished()
        ran = await closed_executions(dev_env.client, reg.account_id)
    assert submitted.status_code < 300, submitted.text
    assert submitted.json()["status"] == "failed"
    assert result.status.value == "failed"
    assert result.reason is not None and "could not be recorded" in result.reason
    assert ran == {"A2pRegistration": 1}


async def test_a_reminder_that_cannot_be_written_never_stops_the_review(
    dev_env, sessions, database_url
):
    stand_ins = [refusing("remind_a2p_registration")]
    every_second = 1 / 3600
    async with stack(
        dev_env, sessions, database_url, stand_ins, sms_registration_reminder_hours=every_second
    ) as reg:
        submitted = await reg.submit(DETAILS)
        assert submitted.status_code < 300, submitted.text
        await asyncio.sleep(2.5)  # past two reminders' times
        await reg.decide(RegistrationStep.BRAND, approved=True, submission=1)
        await reg.wait_for("campaign_pending")
        await reg.decide(RegistrationStep.CAMPAIGN, approved=True, submission=1)
        result = await reg.finished()
        ran = await closed_executions(dev_env.client, reg.account_id)
    assert (result.status.value, result.reminders_sent) == ("approved", 0)
    assert ran == {"A2pRegistration": 1}


# -- auto top-up --------------------------------------------------------------------------


class SettleRefusesTheGrant:
    """The settlement of a charge that succeeded is refused for good (its credits can
    never be granted); any other settlement runs for real."""

    def __init__(self, real: AutoTopUpActivities) -> None:
        self.real = real

    @activity.defn(name="settle_auto_top_up")
    def settle(self, settlement: TopUpSettlement) -> TopUpOutcome:
        capture = settlement.capture
        if settlement.refused is None and capture is not None and capture.succeeded:
            raise refusal(Fault.MISSING_RECORD, "the grant refused for good (injected)")
        return self.real.settle_auto_top_up(settlement)


def top_up_stand_ins(case: str, sessions: sessionmaker[Session], client: Any) -> list[Any]:
    settle = SettleRefusesTheGrant(AutoTopUpActivities(activity_deps(client, sessions))).settle
    return {
        "charge": [refusing("capture_top_up", Fault.GATEWAY_REJECTED)],
        "grant": [settle],
        "grant, then the refund": [settle, refusing("refund_top_up", Fault.GATEWAY_REJECTED)],
        "events": [refusing("dispatch_events")],
    }[case]


async def triggered(api: Any, account: Account) -> None:
    """Turn auto top-up on and spend the account below its trigger."""
    await put_settings(api, account, {"auto_top_up": TOP_UP})
    answer = await send(api, account, 30)  # 120 of 200 credits: 80 left, below 100
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("case", "status", "reason", "charged", "refunded"),
    [
        ("charge", "declined", "The charge was refused", 0, 0),
        ("grant", "declined", "the charge was refunded", 1, 1),
        ("grant, then the refund", "declined", "the refund failed", 1, 0),
        ("events", "completed", None, 1, 0),
    ],
)
async def test_an_auto_top_up_ends_recorded_at_each_step(
    case, status, reason, charged, refunded, dev_env, sessions, database_url, caplog
):
    account = active_account(sessions, 200, datetime.now(UTC))
    settings = settings_for(database_url)
    stand_ins = top_up_stand_ins(case, sessions, dev_env.client)
    async with (
        running_worker(dev_env.client, sessions, settings.sms_task_queue, stand_ins),
        api_client(settings, dev_env.client) as api,
    ):
        await triggered(api, account)
        (top_up,) = await settled(sessions, account.account_id)
        ran = await closed_executions(dev_env.client, account.account_id)
        feed = {event["type"]: event["data"] for event in await events(api, account)}
        saved = (await api.get(account.path("/settings"), headers=account.admin)).json()
    assert top_up.status == TopUpStatus(status)
    assert ran["SmsAutoTopUp"] == 1
    with sessions() as session:
        payments = list(
            session.scalars(select(Payment).where(Payment.account_id == account.account_id))
        )
    captures = [p for p in payments if p.kind == "capture" and p.status == "succeeded"]
    refunds = [p for p in payments if p.kind == "refund" and p.status == "succeeded"]
    assert (len(captures), len(refunds)) == (charged, refunded)
    assert all(r.idempotency_key == top_up_refund_key(top_up.top_up_id) for r in refunds)
    if status == "declined":
        assert reason in feed["top_up.declined"]["reason"]
        assert saved["auto_top_up"] is None  # turned off: it does not charge in a loop
    assert errors_logged(caplog, "needs attention") == (case == "grant, then the refund")
    check_money(sessions, account.account_id)

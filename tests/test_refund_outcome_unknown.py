"""A payment provider that stops answering during a refund, for longer than the
gateway's retry bound (Stripe on localstripe, the worker's connection to it broken):
the refund is sent again in bounded rounds after growing durable pauses, its record
pending meanwhile (a purchase ``processing``, an operator's request ``requested``,
the ended add-on's end-now request unanswered, each workflow's details line saying
so), and once Stripe answers there is exactly one refund, for the amount first
recorded under its key.

On the time-skipping server: the rounds and the pauses pass in seconds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle

from boundary.errors import Fault
from boundary.options import GATEWAY_PATIENCE, OUTAGE_LONGEST_PAUSE
from contracts.operator import END_NOW_UPDATE, RefundRequestStatus, operator_refund_workflow_id
from contracts.purchase import refund_key
from contracts.subscription import subscription_workflow_id
from domain.calendar import billing_period
from domain.enums import AddonStatus, BillingCycle
from domain.refunds import prorated_unused_minor
from store.models import Payment
from store.operator_models import RefundRequest
from tests.failure_support import refusing
from tests.invariants import check_money
from tests.operator_support import audit_of, ops_post
from tests.stripe_support import (
    ProviderLink,
    intents_of,
    metadata,
    refunds_of,
    stripe_shop,
)
from tests.subscription_support import TIER

ADDON = {"type": "addon", "tier": "sms-1000"}
# Several rounds of attempts, each past the gateway's bound, and the pauses between.
OUTAGE = GATEWAY_PATIENCE * 2 + OUTAGE_LONGEST_PAUSE * 2
API_WAIT_SECONDS = 2.0


async def details(handle: WorkflowHandle[Any, Any]) -> str:
    metadata_: WorkflowMetadata = await handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return metadata_.current_details


async def test_a_purchase_refund_whose_answer_is_lost_is_made_once(
    time_skipping_env, sessions, database_url, localstripe
):
    """The grant is refused for good after the capture, so the payment goes back; the
    refund reaches Stripe, its answer is lost and Stripe is unreachable for several
    rounds. The purchase stays ``processing``; the round after Stripe is back finds
    the refund its key made, and the purchase ends ``refunded``."""
    env, link = time_skipping_env, ProviderLink()
    async with stripe_shop(
        env,
        sessions,
        database_url,
        localstripe,
        link,
        stand_ins=[refusing("grant_purchase", Fault.GRANT_FAILED)],
        sms_api_wait_seconds=API_WAIT_SECONDS,
    ) as shop:
        purchase_id = (await shop.buy(ADDON)).json()["purchase_id"]
        link.lose_answer_to("/refunds")
        waiting = await shop.confirm(purchase_id)
        assert waiting.status_code == 202, waiting.text
        await env.sleep(OUTAGE)
        handle = shop.handle(purchase_id)
        assert "refund unanswered since" in await details(handle)
        assert (await shop.get(f"/purchases/{purchase_id}"))["status"] == "processing"
        link.down.clear()
        await env.sleep(OUTAGE_LONGEST_PAUSE + GATEWAY_PATIENCE)
        ended = await handle.result()
        payments = (await shop.get("/payments"))["payments"]
    assert ended["status"] == "refunded", ended
    (intent,) = intents_of(localstripe, shop.account_id)
    (refund,) = refunds_of(localstripe, intent.id)  # one refund, however many rounds
    assert (refund.status, refund.amount) == ("succeeded", intent.amount)
    assert metadata(refund.metadata)["payment_key"] == refund_key(purchase_id)
    assert sorted((p["kind"], p["status"]) for p in payments) == [
        ("capture", "succeeded"),
        ("refund", "succeeded"),
    ]
    assert check_money(sessions, shop.account_id) == {"refunded": 1}


async def test_an_operator_refund_waits_out_the_provider_and_is_made_once(
    time_skipping_env, sessions, database_url, localstripe
):
    """Stripe is unreachable when an operator refunds part of a capture: the request
    stays ``requested`` (its amount held), the API answers 503 and the same command
    later answers the refund; Stripe holds one refund of that amount."""
    env, link = time_skipping_env, ProviderLink()
    async with stripe_shop(
        env, sessions, database_url, localstripe, link, sms_api_wait_seconds=API_WAIT_SECONDS
    ) as shop:
        bought = await shop.bought(ADDON)
        body = {"payment_id": bought["payment"]["payment_id"], "amount_minor": 500, "reason": "x"}
        link.down.set()
        waiting = await ops_post(shop, "/refunds", body, key="during-outage")
        assert waiting.status_code == 503, waiting.text
        await env.sleep(OUTAGE)
        with sessions() as session:
            request = session.query(RefundRequest).filter_by(request_key="during-outage").one()
        assert request.status == RefundRequestStatus.REQUESTED.value
        handle = env.client.get_workflow_handle(
            operator_refund_workflow_id(shop.account_id, request.id)
        )
        assert "refund unanswered since" in await details(handle)
        link.down.clear()
        await env.sleep(OUTAGE_LONGEST_PAUSE + GATEWAY_PATIENCE)
        await handle.result()
        answered = await ops_post(shop, "/refunds", body, key="during-outage")
    assert answered.status_code == 201, answered.text
    assert (answered.json()["status"], answered.json()["amount_minor"]) == ("succeeded", 500)
    (intent,) = intents_of(localstripe, shop.account_id)
    (refund,) = refunds_of(localstripe, intent.id)
    assert (refund.status, refund.amount, refund.id) == (
        "succeeded",
        500,
        answered.json()["provider_ref"],
    )
    with sessions() as session:
        request = session.query(RefundRequest).filter_by(request_key="during-outage").one()
    assert request.status == RefundRequestStatus.REFUNDED.value
    check_money(sessions, shop.account_id)


async def test_an_end_now_refund_through_an_outage_is_made_once_and_audited(
    time_skipping_env, sqlite_sessions, sqlite_url, localstripe
):
    """An operator ends the add-on now with a prorated refund; the refund reaches
    Stripe and its answer is lost, Stripe unreachable for several rounds. The add-on
    has ended; the subscription waits (its details line says so) and, once Stripe is
    back, finds the refund its key made: one refund of the unused days. The request,
    repeated with its key, attaches to that one end: 503 while the refund goes on, then
    the refund (once the run has closed too), audited once."""
    env, link = time_skipping_env, ProviderLink()
    async with stripe_shop(
        env, sqlite_sessions, sqlite_url, localstripe, link, sms_api_wait_seconds=API_WAIT_SECONDS
    ) as shop:
        bought = await shop.bought(ADDON)
        await env.sleep(timedelta(days=10))
        now = await env.get_current_time()
        period = billing_period(shop.now.date(), BillingCycle.MONTHLY, shop.now)
        expected = prorated_unused_minor(TIER.monthly_price_minor, period, now)
        body = {"when": "now", "refund": "prorated", "reason": "fraud"}
        link.lose_answer_to("/refunds")
        waiting = await ops_post(shop, "/addon/cancel", body, key="end-1")
        assert waiting.status_code == 503, waiting.text
        await env.sleep(OUTAGE)
        handle = env.client.get_workflow_handle(
            subscription_workflow_id(shop.account_id), result_type=AddonStatus
        )
        assert "refund unanswered since" in await details(handle)
        still = await ops_post(shop, "/addon/cancel", body, key="end-1")
        assert still.status_code == 503, still.text  # the same end, its refund still going
        assert not audit_of(sqlite_sessions, shop.account_id)
        link.down.clear()
        await env.sleep(OUTAGE_LONGEST_PAUSE + GATEWAY_PATIENCE)
        assert await handle.result() is AddonStatus.CANCELLED
        answered = await ops_post(shop, "/addon/cancel", body, key="end-1")
        again = await ops_post(shop, "/addon/cancel", body, key="end-1")  # from the audit
        other = await ops_post(shop, "/addon/cancel", body, key="end-2")
        assert await accepted_updates(handle, END_NOW_UPDATE) == 1
    (refunded,) = refunds_in(sqlite_sessions, bought["payment"]["payment_id"])
    assert (refunded.status, refunded.amount_minor) == ("succeeded", expected)
    (intent,) = intents_of(localstripe, shop.account_id)
    (refund,) = refunds_of(localstripe, intent.id)  # one refund, however many rounds
    assert (refund.status, refund.amount, refund.id) == (
        "succeeded",
        expected,
        refunded.provider_ref,
    )
    assert answered.status_code == 200, answered.text
    assert again.json() == answered.json()
    assert answered.json()["status"] == "cancelled"
    assert [r["payment_id"] for r in answered.json()["refunds"]] == [refunded.payment_id]
    (record,) = audit_of(sqlite_sessions, shop.account_id)
    assert (record.action, record.request_key, record.reference) == (
        "end_now",
        "end-1",
        refunded.payment_id,
    )
    assert other.status_code == 409, other.text  # another request: nothing left to end
    assert other.json()["error"]["code"] == "addon_not_active"
    assert "has ended (cancelled on" in other.json()["error"]["message"]
    check_money(sqlite_sessions, shop.account_id)


async def accepted_updates(handle: WorkflowHandle[Any, Any], name: str) -> int:
    """How many updates called ``name`` the workflow's run accepted."""
    history = await handle.fetch_history()
    return sum(
        1
        for event in history.events
        if event.HasField("workflow_execution_update_accepted_event_attributes")
        and event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == name
    )


def refunds_in(sessions: sessionmaker[Session], payment_id: str) -> list[Payment]:
    with sessions() as session:
        query = select(Payment).where(Payment.refund_of == payment_id, Payment.kind == "refund")
        return list(session.scalars(query))

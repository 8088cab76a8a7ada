"""The Stripe gateway against localstripe, driven directly: declines, 3-D Secure, and
the fault drills (a crash between "intent created" and "confirmed", and between
"confirmed" and "recorded"), settled by a retry or by the janitor, as Stripe sees it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.enums import PaymentStatus
from payments.gateway import PaymentResult
from payments.stripe_gateway import StripeGateway
from payments.stripe_outcomes import ABANDONED, AUTHENTICATION_REQUIRED, NEVER_CREATED
from store.models import Payment
from store.receipt_models import ReceiptRow
from tests.stripe_support import customer_of, intents_of, metadata, stripe_client, stripe_gateway
from tests.support import SELLER, create_account

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
LATER = timedelta(hours=1)


class Crash(Exception):
    """The worker dying at a chosen point (the attempt ends without an answer)."""


class CrashingGateway(StripeGateway):
    """Dies once: ``before_confirm`` after the intent was created and its id stored,
    ``after_confirm`` once Stripe confirmed it but before our table says so."""

    def __init__(self, *args, at: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.at = at

    def _confirm(self, intent_id, key):
        if self.at == "before_confirm":
            raise Crash(self.at)
        answer = super()._confirm(intent_id, key)
        if self.at == "after_confirm":
            raise Crash(self.at)
        return answer


def crashing(sessions, base: str, at: str) -> CrashingGateway:
    plain = stripe_gateway(sessions, base)
    return CrashingGateway(
        sessions, stripe_client(base), seller=SELLER, localstripe=plain._localstripe, at=at
    )


def account(sessions, payment_method: str = "pm_card_visa") -> str:
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=NOW.date(), payment_method=payment_method, now=NOW)
    return account_id


def charge(
    gateway: StripeGateway, account_id: str, key: str, method: str = "pm_card_visa"
) -> PaymentResult:
    return gateway.capture(
        account_id=account_id,
        amount_minor=1800,
        currency="USD",
        payment_method=method,
        idempotency_key=key,
        reference=f"test {key}",
        at=NOW,
    )


def row(sessions: sessionmaker[Session], key: str) -> Payment:
    with sessions() as session:
        return session.scalars(select(Payment).where(Payment.idempotency_key == key)).one()


def test_a_capture_is_one_confirmed_intent_with_our_keys(sqlite_sessions, localstripe):
    gateway = stripe_gateway(sqlite_sessions, localstripe)
    account_id = account(sqlite_sessions)
    first = charge(gateway, account_id, "purchase:p1")
    again = charge(gateway, account_id, "purchase:p1")
    assert first.status is PaymentStatus.SUCCEEDED and again == first
    (intent,) = intents_of(localstripe, account_id)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 1800, "usd")
    assert metadata(intent.metadata) | {"reference": ""} == {
        "account_id": account_id,
        "payment_key": "purchase:p1",
        "reference": "",
    }
    customer = customer_of(sqlite_sessions, account_id)
    assert intent.customer == customer.customer_ref
    assert intent.payment_method == customer.attached_method_ref
    assert row(sqlite_sessions, "purchase:p1").provider_ref == intent.id
    charge(gateway, account_id, "purchase:p2")  # the same customer, a second intent
    assert customer_of(sqlite_sessions, account_id).customer_ref == customer.customer_ref
    assert len(intents_of(localstripe, account_id)) == 2


def receipts_of(sessions: sessionmaker[Session], account_id: str) -> list[ReceiptRow]:
    with sessions() as session:
        return list(session.scalars(select(ReceiptRow).where(ReceiptRow.account_id == account_id)))


def test_a_brl_capture_and_its_refund_are_in_reais_with_receipts(sqlite_sessions, localstripe):
    gateway = stripe_gateway(sqlite_sessions, localstripe)
    account_id = account(sqlite_sessions)
    captured = gateway.capture(
        account_id=account_id,
        amount_minor=9890,
        currency="BRL",
        payment_method="pm_card_visa",
        idempotency_key="purchase:brl",
        reference="purchase brl",
        at=NOW,
    )
    refunded = gateway.refund(
        payment_id=captured.payment_id, idempotency_key="refund:brl", reference="r", at=NOW
    )
    (intent,) = intents_of(localstripe, account_id)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 9890, "brl")
    assert (refunded.status, refunded.currency) == (PaymentStatus.SUCCEEDED, "BRL")
    paid, refund = sorted(receipts_of(sqlite_sessions, account_id), key=lambda r: r.sequence)
    assert (paid.payment_id, paid.currency) == (captured.payment_id, "BRL")
    assert (refund.payment_id, refund.refunds, refund.currency) == (
        refunded.payment_id,
        paid.receipt_id,
        "BRL",
    )


def test_a_declining_card_is_a_declined_result_with_stripes_reason(sqlite_sessions, localstripe):
    gateway = stripe_gateway(sqlite_sessions, localstripe)
    account_id = account(sqlite_sessions, "pm_card_chargeCustomerFail")
    result = charge(gateway, account_id, "renewal:x:1", "pm_card_chargeCustomerFail")
    assert result.status is PaymentStatus.DECLINED
    assert result.decline_reason == "Your card was declined. (card_declined)"
    (intent,) = intents_of(localstripe, account_id)
    assert intent.status == "requires_payment_method"
    assert charge(gateway, account_id, "renewal:x:1", "pm_card_chargeCustomerFail") == result
    assert len(intents_of(localstripe, account_id)) == 1


def test_a_card_needing_3d_secure_is_declined_not_left_waiting(sqlite_sessions, localstripe):
    client = stripe_client(localstripe)
    method = client.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": "4000002760003184", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    gateway = stripe_gateway(sqlite_sessions, localstripe)
    account_id = account(sqlite_sessions, method.id)
    result = charge(gateway, account_id, "purchase:3ds", method.id)
    assert (result.status, result.decline_reason) == (
        PaymentStatus.DECLINED,
        AUTHENTICATION_REQUIRED,
    )
    (intent,) = intents_of(localstripe, account_id)
    assert intent.status == "canceled"  # it can never complete behind our back


@pytest.mark.parametrize("crash_at", ["before_confirm", "after_confirm"])
def test_a_crash_mid_capture_is_settled_by_the_retry_without_a_second_charge(
    sqlite_sessions, localstripe, crash_at
):
    account_id = account(sqlite_sessions)
    with pytest.raises(Crash):
        charge(crashing(sqlite_sessions, localstripe, crash_at), account_id, "purchase:c1")
    assert row(sqlite_sessions, "purchase:c1").status == "pending"
    (intent,) = intents_of(localstripe, account_id)
    assert intent.status == (
        "requires_confirmation" if crash_at == "before_confirm" else "succeeded"
    )

    retried = charge(stripe_gateway(sqlite_sessions, localstripe), account_id, "purchase:c1")
    assert retried.status is PaymentStatus.SUCCEEDED
    (intent,) = intents_of(localstripe, account_id)
    assert intent.status == "succeeded"
    assert row(sqlite_sessions, "purchase:c1").provider_ref == intent.id


@pytest.mark.parametrize(
    ("crash_at", "status", "reason", "stripe_status"),
    [
        ("after_confirm", PaymentStatus.SUCCEEDED, None, "succeeded"),
        ("before_confirm", PaymentStatus.DECLINED, ABANDONED, "canceled"),
    ],
)
def test_the_janitor_settles_what_a_dead_worker_left_from_stripes_side(
    sqlite_sessions, localstripe, crash_at, status, reason, stripe_status
):
    account_id = account(sqlite_sessions)
    with pytest.raises(Crash):
        charge(crashing(sqlite_sessions, localstripe, crash_at), account_id, "purchase:j1")
    gateway = stripe_gateway(sqlite_sessions, localstripe)
    too_soon = gateway.settle_stale(now=datetime.now(UTC), older_than=LATER, limit=50)
    assert row(sqlite_sessions, "purchase:j1").status == "pending"
    assert too_soon.examined == 0

    report = gateway.settle_stale(now=datetime.now(UTC) + LATER * 2, older_than=LATER, limit=500)
    assert report.still_open == 0
    settled = row(sqlite_sessions, "purchase:j1")
    assert (settled.status, settled.decline_reason) == (status.value, reason)
    (intent,) = intents_of(localstripe, account_id)
    assert intent.status == stripe_status
    # The workflow's late retry gets the same answer and charges nothing more.
    assert charge(gateway, account_id, "purchase:j1").status is status
    assert [i.status for i in intents_of(localstripe, account_id)] == [stripe_status]
    # The settling writer issued the receipt of a success, and only of a success.
    assert len(receipts_of(sqlite_sessions, account_id)) == (status is PaymentStatus.SUCCEEDED)


def test_the_janitor_closes_an_attempt_that_never_reached_stripe(sqlite_sessions, localstripe):
    account_id = account(sqlite_sessions)
    gateway = stripe_gateway(sqlite_sessions, localstripe)

    class DiesBeforeCreating(StripeGateway):
        def _create_intent(self, attempt):
            raise Crash("before creating the intent")

    dying = DiesBeforeCreating(
        sqlite_sessions, stripe_client(localstripe), seller=SELLER, localstripe=True
    )
    with pytest.raises(Crash):
        charge(dying, account_id, "purchase:n1")
    gateway.settle_stale(now=datetime.now(UTC) + LATER * 2, older_than=LATER, limit=500)
    settled = row(sqlite_sessions, "purchase:n1")
    assert (settled.status, settled.decline_reason) == ("declined", NEVER_CREATED)
    assert intents_of(localstripe, account_id) == []

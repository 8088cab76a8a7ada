"""Partial refunds at the gateway: the sandbox and Stripe (localstripe) each refund the
amount asked, once per key (the amount recorded with the key is the one sent on every
retry), and refuse an amount that does not fit the capture."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.enums import PaymentKind, PaymentStatus
from payments.gateway import GatewayRejected, PaymentGateway
from payments.sandbox import SandboxGateway
from tests.stripe_support import intents_of, metadata, refunds_of, stripe_gateway
from tests.support import SELLER, create_account

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def captured(gateway: PaymentGateway, sessions) -> tuple[str, str]:
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=NOW.date(), now=NOW)
    result = gateway.capture(
        account_id=account_id,
        amount_minor=1800,
        currency="USD",
        payment_method="pm_card_visa",
        idempotency_key=f"purchase:{account_id}",
        reference="test",
        at=NOW,
    )
    assert result.succeeded
    return account_id, result.payment_id


def partial_refunds(gateway: PaymentGateway, payment_id: str) -> None:
    first = gateway.refund(
        payment_id=payment_id, idempotency_key="part-1", reference="r", at=NOW, amount_minor=500
    )
    # A retry of the same key, even with another amount, answers the first refund.
    repeat = gateway.refund(
        payment_id=payment_id, idempotency_key="part-1", reference="r", at=NOW, amount_minor=700
    )
    assert repeat == first
    assert (first.kind, first.status, first.amount_minor) == (
        PaymentKind.REFUND,
        PaymentStatus.SUCCEEDED,
        500,
    )
    rest = gateway.refund(
        payment_id=payment_id, idempotency_key="part-2", reference="r", at=NOW, amount_minor=1300
    )
    assert rest.amount_minor == 1300 and rest.succeeded
    with pytest.raises(GatewayRejected):
        gateway.refund(
            payment_id=payment_id, idempotency_key="part-3", reference="r", at=NOW, amount_minor=0
        )


def test_sandbox_refunds_the_amount_asked(sqlite_sessions):
    gateway = SandboxGateway(sqlite_sessions, SELLER)
    _, payment_id = captured(gateway, sqlite_sessions)
    partial_refunds(gateway, payment_id)
    full = gateway.refund(payment_id=payment_id, idempotency_key="full", reference="r", at=NOW)
    assert full.amount_minor == 1800  # no amount: the whole capture, as before


def test_stripe_refunds_carry_the_amount(sqlite_sessions, localstripe):
    gateway = stripe_gateway(sqlite_sessions, localstripe)
    account_id, payment_id = captured(gateway, sqlite_sessions)
    partial_refunds(gateway, payment_id)
    (intent,) = intents_of(localstripe, account_id)
    refunds = refunds_of(localstripe, intent.id)
    assert sorted(r.amount for r in refunds) == [500, 1300]  # one Stripe Refund per key
    assert {metadata(r.metadata)["payment_key"] for r in refunds} == {"part-1", "part-2"}

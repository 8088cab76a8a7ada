"""Receipt numbers: issued in the payment's own transaction from the year's counter, so
concurrent payments take consecutive numbers, a rolled-back payment gives its number
back (no gap), and no number is taken twice. PostgreSQL proves the row lock."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.enums import PaymentKind, PaymentStatus
from payments.sandbox import SandboxGateway
from store.db import transaction
from store.models import Payment
from store.receipt_models import ReceiptRow
from store.receipts import issue_receipt
from tests.support import SELLER, create_account

NOW = datetime(2027, 1, 2, 12, tzinfo=UTC)
PURCHASES = 50
ROLLED_BACK = 10
THREADS = 16


class Abandoned(Exception):
    """A payment's transaction that fails after its receipt took a number."""


def capture(sessions: sessionmaker[Session], account_id: str, key: str, method: str) -> str:
    return (
        SandboxGateway(sessions, SELLER)
        .capture(
            account_id=account_id,
            amount_minor=9890,
            currency="BRL",
            payment_method=method,
            idempotency_key=key,
            reference=f"purchase {key}",
            at=NOW,
        )
        .payment_id
    )


def abandoned_payment(sessions: sessionmaker[Session], account_id: str, n: int) -> None:
    """Record a payment and its receipt, then fail: both roll back together."""
    try:
        with transaction(sessions) as session:
            payment = Payment(
                payment_id=f"pay_abandoned_{n}",
                account_id=account_id,
                kind=PaymentKind.CAPTURE.value,
                amount_minor=100,
                currency="BRL",
                status=PaymentStatus.SUCCEEDED.value,
                payment_method="pm_card_visa",
                reference="abandoned",
                idempotency_key=f"abandoned:{n}",
                at=NOW,
                created_at=NOW,
            )
            session.add(payment)
            session.flush()
            assert issue_receipt(session, payment, SELLER) is not None
            raise Abandoned
    except Abandoned:
        pass


def numbers(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        return sorted(session.scalars(select(ReceiptRow.sequence).where(ReceiptRow.year == 2027)))


def test_concurrent_purchases_take_consecutive_numbers(sessions):
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=NOW.date(), now=NOW)

    def one(n: int) -> None:
        if n % (PURCHASES // ROLLED_BACK) == 0:
            abandoned_payment(sessions, account_id, n)
        capture(sessions, account_id, f"purchase:{account_id}:{n}", "pm_card_visa")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(PURCHASES)))

    assert numbers(sessions) == list(range(1, PURCHASES + 1))
    with sessions() as session:
        receipts = session.scalars(select(ReceiptRow)).all()
        captured = session.scalars(select(Payment).where(Payment.account_id == account_id)).all()
    assert {r.number for r in receipts} == {f"SMS-2027-{n:06d}" for n in range(1, PURCHASES + 1)}
    assert {r.payment_id for r in receipts} == {p.payment_id for p in captured}
    assert all(r.currency == "BRL" and r.amount_minor == 9890 for r in receipts)


def test_a_retried_capture_keeps_its_one_receipt_and_a_decline_gets_none(sessions):
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=NOW.date(), now=NOW)
    first = capture(sessions, account_id, "purchase:a", "pm_card_visa")
    again = capture(sessions, account_id, "purchase:a", "pm_card_visa")
    declined = capture(sessions, account_id, "purchase:b", "pm_card_chargeDeclined")
    assert first == again
    with sessions() as session:
        receipts = session.scalars(select(ReceiptRow)).all()
    assert [(r.payment_id, r.sequence) for r in receipts] == [(first, 1)]
    assert declined not in {r.payment_id for r in receipts}


def test_a_refund_receipt_is_in_its_capture_s_currency_and_names_its_receipt(sessions):
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=NOW.date(), now=NOW)
    gateway = SandboxGateway(sessions, SELLER)
    payment_id = capture(sessions, account_id, "purchase:c", "pm_card_visa")
    refund = gateway.refund(
        payment_id=payment_id, idempotency_key="refund:c", reference="refund", at=NOW
    )
    assert refund.currency == "BRL"
    with sessions() as session:
        paid, refunded = session.scalars(select(ReceiptRow).order_by(ReceiptRow.sequence)).all()
    assert (paid.kind, refunded.kind) == ("payment", "refund")
    assert refunded.refunds == paid.receipt_id and refunded.currency == "BRL"
    assert refunded.lines == [
        {"description": f"Refund of receipt {paid.number}", "amount_minor": 9890}
    ]
    assert refunded.billed_to == {
        "legal_name": account_id.title(),
        "tax_id": None,
        "email": None,
        "address": None,
    }

"""The money invariants every test and fault drill checks after it runs (docs/design.md,
"The money invariants"). Read straight from the database, the record of what happened.

1. Ledger: the sum of the ledger's entries = the cached balance = what the grants
   still hold; no balance below zero.
2. Purchases: a completed purchase was captured once, for exactly its quote's
   ``due_now_minor``, and granted once (a tier downgrade, due 0, neither); operator
   refunds of it (``refund:operator:…``, ``refund:end-now:…``) sum to at most the
   capture, and each operator refund request marked refunded has exactly its refund
   payment; a refunded one was captured and refunded in full and granted nothing; one
   that needs attention was captured, granted nothing and was not refunded; a
   declined or failed one captured nothing (an attempt the provider refused may stay
   on record) and granted nothing; any other purchase moved no money and granted nothing.
3. Renewals: at most one succeeded charge and one grant per credit month.
4. Receipts and currency: every succeeded capture and refund has exactly one receipt,
   for its amount in its currency, whose lines add up to it; a refund's receipt names
   its capture's; every payment of the account is in the account's one currency.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.purchase import payment_key, refund_key
from store.ledger_models import CreditEntry, CreditGrant
from store.models import Account, Payment, Purchase
from store.operator_models import RefundRequest
from store.receipt_models import ReceiptRow
from store.subscriptions import purchase_grant_key


def check_ledger(session: Session, account_id: str) -> int:
    account = session.get(Account, account_id)
    assert account is not None
    entries = session.scalar(
        select(func.coalesce(func.sum(CreditEntry.credits), 0)).where(
            CreditEntry.account_id == account_id
        )
    )
    held = session.scalar(
        select(func.coalesce(func.sum(CreditGrant.remaining), 0)).where(
            CreditGrant.account_id == account_id
        )
    )
    assert account.credit_balance >= 0
    assert entries == account.credit_balance == held, (entries, account.credit_balance, held)
    return account.credit_balance


def _payment(session: Session, key: str) -> Payment | None:
    return session.scalars(select(Payment).where(Payment.idempotency_key == key)).first()


def _refunded(session: Session, payment_id: str) -> int:
    """Every refund of a capture that did not fail (settled or still in flight)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
            Payment.refund_of == payment_id,
            Payment.kind == "refund",
            Payment.status != "declined",
        )
    )
    return int(total or 0)


def check_refund_requests(session: Session, account_id: str) -> None:
    """An operator refund marked refunded has its payment, for exactly its amount."""
    for request in session.scalars(
        select(RefundRequest).where(RefundRequest.account_id == account_id)
    ):
        capture = session.get(Payment, request.payment_id)
        assert capture is not None and _refunded(session, capture.payment_id) <= (
            capture.amount_minor
        )
        if request.status == "refunded":
            refund = session.get(Payment, request.refund_payment_id)
            assert refund is not None and refund.refund_of == request.payment_id
            assert refund.amount_minor == request.amount_minor


def check_purchases(session: Session, account_id: str) -> Counter[str]:
    """Checks every purchase of the account; returns how many ended in each status."""
    outcomes: Counter[str] = Counter()
    for purchase in session.scalars(select(Purchase).where(Purchase.account_id == account_id)):
        outcomes[purchase.status] += 1
        capture = _payment(session, payment_key(purchase.purchase_id))
        refund = _payment(session, refund_key(purchase.purchase_id))
        grant = session.scalars(
            select(CreditGrant).where(
                CreditGrant.idempotency_key == purchase_grant_key(purchase.purchase_id)
            )
        ).first()
        captured = capture is not None and capture.status == "succeeded"
        if purchase.status == "completed":
            assert purchase.quote is not None
            # A downgrade is due nothing and grants nothing now; every other purchase
            # captured exactly its quote and granted its credits.
            if purchase.quote["due_now_minor"] > 0:
                assert captured and capture is not None
                assert capture.amount_minor == purchase.quote["due_now_minor"]
                assert _refunded(session, capture.payment_id) <= capture.amount_minor
            else:
                assert capture is None
            assert refund is None
            assert (grant is not None) == (purchase.quote["credits_now"] > 0)
        elif purchase.status == "refunded":
            assert captured and capture is not None and refund is not None
            assert refund.amount_minor == capture.amount_minor and grant is None
        elif purchase.status == "needs_attention":  # an operator is alerted to refund it
            assert captured and grant is None
            assert refund is None or refund.status != "succeeded"
        elif purchase.status in {"declined", "failed", "processing"}:
            assert not captured or purchase.status == "processing"
            assert grant is None or purchase.status == "processing"
        else:  # rejected, cancelled, expired, awaiting_confirmation: no money, no credits
            assert capture is None, (purchase.purchase_id, purchase.status)
            assert grant is None and refund is None
    return outcomes


def check_renewals(session: Session, account_id: str) -> None:
    grants = Counter(
        session.scalars(
            select(CreditGrant.idempotency_key).where(
                CreditGrant.account_id == account_id,
                CreditGrant.idempotency_key.like("renewal:%"),
            )
        )
    )
    assert all(count == 1 for count in grants.values())
    paid_months = Counter(
        key.rsplit(":attempt-", 1)[0]
        for key in session.scalars(
            select(Payment.idempotency_key).where(
                Payment.account_id == account_id,
                Payment.kind == "capture",
                Payment.status == "succeeded",
                Payment.idempotency_key.like("renewal:%"),
            )
        )
    )
    assert all(count == 1 for count in paid_months.values()), paid_months


def check_receipts(session: Session, account_id: str) -> None:
    account = session.get(Account, account_id)
    assert account is not None
    payments = session.scalars(select(Payment).where(Payment.account_id == account_id)).all()
    assert {p.currency for p in payments} <= {account.currency}, "currencies mixed"
    succeeded = [p for p in payments if p.status == "succeeded"]
    receipts = {
        r.payment_id: r
        for r in session.scalars(select(ReceiptRow).where(ReceiptRow.account_id == account_id))
    }
    assert set(receipts) == {p.payment_id for p in succeeded}
    for payment in succeeded:
        receipt = receipts[payment.payment_id]
        kind = "refund" if payment.kind == "refund" else "payment"
        assert (receipt.kind, receipt.amount_minor, receipt.currency) == (
            kind,
            payment.amount_minor,
            payment.currency,
        )
        assert sum(line["amount_minor"] for line in receipt.lines) == payment.amount_minor
        if payment.refund_of is not None:
            assert receipt.refunds == receipts[payment.refund_of].receipt_id


def check_money(sessions: sessionmaker[Session], account_id: str) -> Counter[str]:
    """Every invariant of one account; returns the purchases' outcomes."""
    with sessions() as session:
        check_ledger(session, account_id)
        check_receipts(session, account_id)
        check_renewals(session, account_id)
        check_refund_requests(session, account_id)
        return check_purchases(session, account_id)

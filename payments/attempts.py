"""Payment attempts in our ``payments`` table, written before the provider is called.

A provider that does not honour idempotency keys (localstripe; Stripe itself only
for 24 hours) cannot be asked twice safely, so every capture and refund is first
recorded here as ``pending`` under its key, then carries the provider's object id
(``provider_ref``) the moment it exists, and finally its outcome. Each step is a
conditional write: whoever settles an attempt first (the activity or the janitor)
wins, and both read the outcome from the provider, so they agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.enums import PaymentKind, PaymentStatus
from domain.receipts import BilledParty, ReceiptLine
from payments.gateway import PaymentResult
from payments.stripe_outcomes import ABANDONED, NEVER_CREATED
from store.db import transaction
from store.models import Payment, ProviderCustomer
from store.receipts import issue_receipt

# The attempt state before its outcome is known; never shown in the payments list.
PENDING = "pending"


def result_of(payment: Payment) -> PaymentResult:
    return PaymentResult(
        payment_id=payment.payment_id,
        kind=PaymentKind(payment.kind),
        status=PaymentStatus(payment.status),
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        decline_reason=payment.decline_reason,
    )


def receipt_lines(lines: Sequence[ReceiptLine]) -> list[dict[str, Any]] | None:
    """The lines as the payment keeps them for its receipt; none: the reference alone."""
    return [line.model_dump() for line in lines] or None


def is_settled(payment: Payment) -> bool:
    return payment.status != PENDING


# What an attempt is settled with when the card was never asked: nothing was charged.
_NEVER_SENT = frozenset({NEVER_CREATED, ABANDONED})


def never_sent(result: PaymentResult) -> bool:
    """Declined without reaching the card (the provider never saw the attempt, or it
    was abandoned before its confirmation): a new attempt cannot charge twice."""
    return result.status is PaymentStatus.DECLINED and result.decline_reason in _NEVER_SENT


def open_attempt(sessions: sessionmaker[Session], attempt: Payment) -> Payment:
    """Record ``attempt`` as pending under its key, or return what the key recorded first."""
    key = attempt.idempotency_key
    try:
        with transaction(sessions) as session:
            existing = _by_key(session, key)
            if existing is not None:
                return existing
            attempt.payment_id = f"pay_{uuid.uuid4().hex[:24]}"
            attempt.status = PENDING
            attempt.response_delivered = True
            attempt.created_at = datetime.now(UTC)  # wall clock: the janitor ages attempts by it
            session.add(attempt)
            return attempt
    except IntegrityError:
        # A concurrent call with the same key won the insert: continue with its attempt.
        with sessions() as session:
            winner = _by_key(session, key)
            if winner is None:
                raise
            return winner


def by_key(sessions: sessionmaker[Session], key: str) -> Payment | None:
    """The attempt recorded under ``key``, settled or pending; None if none was."""
    with sessions() as session:
        return _by_key(session, key)


def find(sessions: sessionmaker[Session], payment_id: str) -> Payment | None:
    with sessions() as session:
        return session.get(Payment, payment_id)


def reload(sessions: sessionmaker[Session], payment_id: str) -> Payment:
    payment = find(sessions, payment_id)
    assert payment is not None, f"payment {payment_id} vanished"
    return payment


def attach_provider_ref(sessions: sessionmaker[Session], payment_id: str, ref: str) -> bool:
    """Store the provider's object id on a pending attempt that has none yet; False when
    the attempt was settled meanwhile (the new provider object is then an orphan)."""
    with transaction(sessions) as session:
        changed = session.execute(
            update(Payment)
            .where(
                Payment.payment_id == payment_id,
                Payment.status == PENDING,
                Payment.provider_ref.is_(None),
            )
            .values(provider_ref=ref)
        )
        return bool(getattr(changed, "rowcount", 0))


def settle(
    sessions: sessionmaker[Session],
    payment_id: str,
    status: PaymentStatus,
    *,
    seller: BilledParty,
    decline_reason: str | None = None,
) -> Payment:
    """Write the outcome unless another writer settled the attempt first; the stored row.
    The writer that settles a success issues its receipt (from ``seller``) in the same
    transaction."""
    with transaction(sessions) as session:
        settled = session.execute(
            update(Payment)
            .where(Payment.payment_id == payment_id, Payment.status == PENDING)
            .values(status=status.value, decline_reason=decline_reason and decline_reason[:255])
        )
        if getattr(settled, "rowcount", 0):
            payment = session.get(Payment, payment_id, populate_existing=True)
            assert payment is not None
            issue_receipt(session, payment, seller)
    return reload(sessions, payment_id)


def stale_attempts(sessions: sessionmaker[Session], before: datetime, limit: int) -> list[Payment]:
    """Pending attempts recorded before ``before``, oldest first."""
    with sessions() as session:
        return list(
            session.scalars(
                select(Payment)
                .where(Payment.status == PENDING, Payment.created_at < before)
                .order_by(Payment.created_at)
                .limit(limit)
            )
        )


def _by_key(session: Session, key: str) -> Payment | None:
    return session.scalars(select(Payment).where(Payment.idempotency_key == key)).first()


# -- the provider's customer of an account -------------------------------------------


def customer_of(sessions: sessionmaker[Session], account_id: str) -> ProviderCustomer | None:
    with sessions() as session:
        return session.get(ProviderCustomer, account_id)


def save_customer(
    sessions: sessionmaker[Session], account_id: str, customer_ref: str
) -> ProviderCustomer:
    """Keep the account's first provider customer; a concurrent creator's row wins."""
    now = datetime.now(UTC)
    try:
        with transaction(sessions) as session:
            if session.get(ProviderCustomer, account_id) is None:
                session.add(
                    ProviderCustomer(
                        account_id=account_id,
                        customer_ref=customer_ref,
                        created_at=now,
                        updated_at=now,
                    )
                )
    except IntegrityError:
        pass
    customer = customer_of(sessions, account_id)
    assert customer is not None
    return customer


def save_attached_method(
    sessions: sessionmaker[Session], account_id: str, payment_method: str, method_ref: str
) -> None:
    with transaction(sessions) as session:
        customer = session.get(ProviderCustomer, account_id)
        assert customer is not None
        customer.payment_method = payment_method
        customer.attached_method_ref = method_ref
        customer.updated_at = datetime.now(UTC)

"""What an add-on ended now can give back: the captures of its paid period, newest
first, each with what it still holds (the split itself: domain.refunds)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.operator import end_now_refund_key
from domain.calendar import Period
from domain.enums import PaymentKind, PaymentStatus
from domain.refunds import Capture, refundable_minor
from store.models import Payment
from store.operator import refunded_minor


def period_captures(session: Session, account_id: str, period: Period) -> list[Capture]:
    """The period's successful captures, newest first, with what each still holds. A
    part refunded already under its end-now key counts as held: a retry of the refund
    recomputes the same split and answers that part from its key."""
    captures = list(
        session.scalars(
            select(Payment)
            .where(
                Payment.account_id == account_id,
                Payment.kind == PaymentKind.CAPTURE.value,
                Payment.status == PaymentStatus.SUCCEEDED.value,
                Payment.at >= period.start,
                Payment.at < period.end,
            )
            .order_by(Payment.at.desc(), Payment.created_at.desc())
        )
    )
    keys = [end_now_refund_key(account_id, period.start, c.payment_id) for c in captures]
    done = {
        p.refund_of: p.amount_minor
        for p in session.scalars(select(Payment).where(Payment.idempotency_key.in_(keys)))
    }
    return [
        Capture(
            c.payment_id,
            refundable_minor(c.amount_minor, refunded_minor(session, c.payment_id))
            + done.get(c.payment_id, 0),
        )
        for c in captures
    ]

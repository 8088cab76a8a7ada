"""The account's history, newest first, as the JSON API answers it (``GET …/sms/ledger``,
``GET …/sms/payments``) and the billing page shows its recent part: the credit ledger
and the payments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from application.authorization import Action, Permit
from application.context import Services
from domain.enums import EntryKind, PaymentKind, PaymentStatus
from store.db import read_only
from store.ledger_models import CreditEntry
from store.models import Payment

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class LedgerEntryOut(BaseModel):
    at: datetime
    kind: EntryKind
    credits: int
    balance_after: int
    reference: str


class Ledger(BaseModel):
    entries: list[LedgerEntryOut]


class PaymentOut(BaseModel):
    payment_id: str
    at: datetime
    kind: PaymentKind
    amount_minor: int
    currency: str
    status: PaymentStatus
    reference: str
    decline_reason: str | None = None
    provider_ref: str | None = None  # the provider's id (Stripe pi_…/re_…); null for the sandbox


class Payments(BaseModel):
    payments: list[PaymentOut]


def ledger_of(session: Session, account_id: str, limit: int) -> Ledger:
    rows = session.scalars(
        select(CreditEntry)
        .where(CreditEntry.account_id == account_id)
        .order_by(CreditEntry.id.desc())
        .limit(limit)
    )
    return Ledger(
        entries=[
            LedgerEntryOut(
                at=e.at,
                kind=EntryKind(e.kind),
                credits=e.credits,
                balance_after=e.balance_after,
                reference=e.reference,
            )
            for e in rows
        ]
    )


def payments_of(session: Session, account_id: str, limit: int) -> Payments:
    rows = session.scalars(
        select(Payment)
        .where(Payment.account_id == account_id)
        .where(Payment.status.in_([s.value for s in PaymentStatus]))  # not attempts in flight
        .order_by(Payment.at.desc(), Payment.created_at.desc())
        .limit(limit)
    )
    return Payments(
        payments=[
            PaymentOut(
                payment_id=p.payment_id,
                at=p.at,
                kind=PaymentKind(p.kind),
                amount_minor=p.amount_minor,
                currency=p.currency,
                status=PaymentStatus(p.status),
                reference=p.reference,
                decline_reason=p.decline_reason,
                provider_ref=p.provider_ref,
            )
            for p in rows
        ]
    )


def ledger(services: Services, permit: Permit, limit: int = DEFAULT_LIMIT) -> Ledger:
    """The credit ledger, newest first."""
    permit.require(Action.READ_BILLING)
    with read_only(services.sessions) as session:
        return ledger_of(session, permit.account_id, limit)


def payments(services: Services, permit: Permit, limit: int = DEFAULT_LIMIT) -> Payments:
    """Every charge, decline and refund, newest first."""
    permit.require(Action.READ_BILLING)
    with read_only(services.sessions) as session:
        return payments_of(session, permit.account_id, limit)

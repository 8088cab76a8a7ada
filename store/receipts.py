"""Receipts, issued inside the transaction that records their payment as succeeded
(the sandbox's insert, or the settling of a provider's attempt), and read back.

The number comes from the year's counter row, locked by that transaction (``SELECT …
FOR UPDATE`` on PostgreSQL; SQLite serialises writers): two payments take
consecutive numbers, and a payment rolled back takes its number back with it, so
the numbers of a year have no gap and no duplicate. Issuing is idempotent by the
payment: a second call finds the receipt. Its mail (the PDF attached) is written to
the outbox in the same transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain.enums import PaymentKind, PaymentStatus
from domain.receipts import BilledParty, Receipt, ReceiptKind, ReceiptLine, receipt_number
from store.billing_details import billing_details
from store.fact_mail import receipt_mail
from store.models import Account, Payment
from store.receipt_models import ReceiptCounter, ReceiptRow

# "Start the year's counter unless it is there", in each dialect's words.
_OPEN_YEAR: dict[str, Insert] = {
    "sqlite": sqlite_insert(ReceiptCounter).on_conflict_do_nothing(),
    "postgresql": postgresql_insert(ReceiptCounter).on_conflict_do_nothing(),
}


def next_sequence(session: Session, year: int) -> int:
    """The year's next receipt number, its counter row locked until the caller's
    transaction ends."""
    dialect = session.get_bind().dialect.name
    session.execute(_OPEN_YEAR[dialect].values(year=year, last_number=0))
    counter = session.scalars(
        select(ReceiptCounter)
        .where(ReceiptCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    counter.last_number += 1
    return counter.last_number


def _billed_to(session: Session, account_id: str) -> BilledParty:
    """The account's billing details as they are now; its name when it gave none."""
    details = billing_details(session, account_id)
    if details is not None:
        return BilledParty.of(details)
    account = session.get(Account, account_id)
    assert account is not None, f"payment of a missing account {account_id}"
    return BilledParty(legal_name=account.name)


def _lines(payment: Payment, refunded: ReceiptRow | None) -> list[dict[str, Any]]:
    if payment.lines:
        return payment.lines
    description = payment.reference
    if refunded is not None:
        description = f"Refund of receipt {refunded.number}"
    return [ReceiptLine(description=description, amount_minor=payment.amount_minor).model_dump()]


def _receipt_of_payment(session: Session, payment_id: str) -> ReceiptRow | None:
    return session.scalars(select(ReceiptRow).where(ReceiptRow.payment_id == payment_id)).first()


def issue_receipt(session: Session, payment: Payment, seller: BilledParty) -> ReceiptRow | None:
    """The receipt of ``payment`` once it has succeeded, issued in the caller's
    transaction (the one that records the success); None for a decline or an attempt."""
    if payment.status != PaymentStatus.SUCCEEDED.value:
        return None
    existing = _receipt_of_payment(session, payment.payment_id)
    if existing is not None:
        return existing
    refund = payment.kind == PaymentKind.REFUND.value
    refunded = _receipt_of_payment(session, payment.refund_of) if payment.refund_of else None
    year = payment.at.year
    sequence = next_sequence(session, year)
    row = ReceiptRow(
        receipt_id=f"rcp_{uuid.uuid4().hex[:24]}",
        number=receipt_number(year, sequence),
        year=year,
        sequence=sequence,
        account_id=payment.account_id,
        kind=(ReceiptKind.REFUND if refund else ReceiptKind.PAYMENT).value,
        payment_id=payment.payment_id,
        refunds=None if refunded is None else refunded.receipt_id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        lines=_lines(payment, refunded),
        billed_to=_billed_to(session, payment.account_id).model_dump(mode="json"),
        seller=seller.model_dump(mode="json"),
        issued_at=payment.at,
    )
    session.add(row)
    session.flush()
    receipt_mail(session, row)
    return row


# -- reading -------------------------------------------------------------------------------


def receipt_view(session: Session, row: ReceiptRow) -> Receipt:
    refunded = None if row.refunds is None else session.get(ReceiptRow, row.refunds)
    return Receipt(
        receipt_id=row.receipt_id,
        number=row.number,
        issued_at=row.issued_at,
        kind=ReceiptKind(row.kind),
        payment_id=row.payment_id,
        refunds=row.refunds,
        refunds_number=None if refunded is None else refunded.number,
        amount_minor=row.amount_minor,
        currency=row.currency,
        lines=[ReceiptLine.model_validate(line) for line in row.lines],
        billed_to=BilledParty.model_validate(row.billed_to),
        seller=BilledParty.model_validate(row.seller),
    )


def receipt_by_id(session: Session, receipt_id: str) -> Receipt | None:
    """Any account's receipt by its id (the mail workflow attaches it)."""
    row = session.get(ReceiptRow, receipt_id)
    return None if row is None else receipt_view(session, row)


def account_receipt(session: Session, account_id: str, receipt_id: str) -> Receipt | None:
    """The account's receipt; another account's is as good as missing."""
    row = session.get(ReceiptRow, receipt_id)
    if row is None or row.account_id != account_id:
        return None
    return receipt_view(session, row)


def account_receipts(session: Session, account_id: str, limit: int) -> list[Receipt]:
    """The account's receipts, newest first."""
    rows = session.scalars(
        select(ReceiptRow)
        .where(ReceiptRow.account_id == account_id)
        .order_by(ReceiptRow.issued_at.desc(), ReceiptRow.year.desc(), ReceiptRow.sequence.desc())
        .limit(limit)
    )
    return [receipt_view(session, row) for row in rows]

"""The mail of receipts, renewals, balances and the add-on's end, written with the fact
in its transaction, keyed by the fact (a retry mails nothing twice). Sent by the mail
workflow, started after the commit or by the event sweep."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain.enums import AddonStatus
from domain.mail import MailKind
from store.mail import queue_mail
from store.receipt_models import ReceiptRow


def receipt_mail(session: Session, receipt: ReceiptRow) -> None:
    """A receipt was issued (a capture or a refund): mailed with its PDF attached."""
    queue_mail(
        session,
        account_id=receipt.account_id,
        kind=MailKind.RECEIPT,
        reference=receipt.receipt_id,
        data={
            "kind": receipt.kind,
            "number": receipt.number,
            "amount_minor": receipt.amount_minor,
            "currency": receipt.currency,
            "date": receipt.issued_at.isoformat(),
        },
        at=receipt.issued_at,
    )


def past_due_mail(
    session: Session, *, account_id: str, month_start: datetime, at: datetime
) -> None:
    """The renewal charge of the month was declined: the add-on is past due."""
    month = f"{month_start:%Y-%m-%d}"
    queue_mail(
        session,
        account_id=account_id,
        kind=MailKind.PAST_DUE,
        reference=month,
        data={"month": month},
        at=at,
    )


def renewal_declined_mail(
    session: Session,
    *,
    account_id: str,
    month_start: datetime,
    attempt: int,
    amount_minor: int,
    currency: str,
    at: datetime,
) -> None:
    """A dunning retry of the month's charge was declined (the add-on stays past due)."""
    month = f"{month_start:%Y-%m-%d}"
    queue_mail(
        session,
        account_id=account_id,
        kind=MailKind.RENEWAL_DECLINED,
        reference=f"{month}:attempt-{attempt}",
        data={
            "month": month,
            "attempt": attempt,
            "amount_minor": amount_minor,
            "currency": currency,
        },
        at=at,
    )


def low_balance_mail(
    session: Session, *, account_id: str, event_id: str, balance: int, threshold: int, at: datetime
) -> None:
    """A debit took the balance below the threshold (the ``low_balance`` event)."""
    queue_mail(
        session,
        account_id=account_id,
        kind=MailKind.LOW_BALANCE,
        reference=event_id,
        data={"balance": balance, "threshold": threshold},
        at=at,
    )


def addon_ended_mail(
    session: Session, *, account_id: str, status: AddonStatus, at: datetime
) -> None:
    """The add-on was cancelled (a cancel taking effect, an operator's end) or suspended."""
    queue_mail(
        session,
        account_id=account_id,
        kind=MailKind.ADDON_ENDED,
        reference=f"{status.value}:{at.isoformat()}",
        data={"status": status.value, "date": at.isoformat()},
        at=at,
    )

"""The mail outbox: a message written in the transaction of its fact, once per
(account, kind, reference), then started as a ``SmsMailDelivery`` workflow once that
transaction commits (``store.events.follow_up``; the event sweep finds a lost start).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.mail import MailKind, MailStatus
from store.events import FollowUp, follow_up
from store.mail_models import MailMessage


def mail_id_of(account_id: str, kind: MailKind, reference: str) -> str:
    """The message's id, made from its key: every write of one fact names the same
    message, and its Message-ID and workflow id follow from it."""
    digest = hashlib.sha256(f"{account_id}\n{kind.value}\n{reference}".encode()).hexdigest()
    return f"mail_{digest[:24]}"


def queue_mail(
    session: Session,
    *,
    account_id: str,
    kind: MailKind,
    reference: str,
    data: dict[str, Any],
    at: datetime,
) -> MailMessage:
    """Write the message unless its key was written already (a retried fact mails
    nothing twice), and start its delivery once the transaction commits."""
    mail_id = mail_id_of(account_id, kind, reference)
    found = find_mail(session, mail_id)
    if found is not None:
        return found
    row = MailMessage(
        mail_id=mail_id,
        account_id=account_id,
        kind=kind.value,
        reference=reference,
        data=data,
        status=MailStatus.PENDING.value,
        created_at=at,
    )
    session.add(row)
    session.flush()
    follow_up(session, FollowUp("mail", account_id, mail_id))
    return row


def find_mail(session: Session, mail_id: str) -> MailMessage | None:
    return session.scalars(select(MailMessage).where(MailMessage.mail_id == mail_id)).first()


def account_mail(session: Session, account_id: str) -> list[MailMessage]:
    query = select(MailMessage).where(MailMessage.account_id == account_id)
    return list(session.scalars(query.order_by(MailMessage.id)))


def pending_mail(session: Session, limit: int) -> list[MailMessage]:
    query = select(MailMessage).where(MailMessage.status == MailStatus.PENDING.value)
    return list(session.scalars(query.order_by(MailMessage.id).limit(limit)))


def settle_mail(
    session: Session,
    mail_id: str,
    status: MailStatus,
    at: datetime,
    *,
    sent_to: str | None = None,
    detail: str | None = None,
) -> None:
    """Record how the message ended; a later retry that finds it ended changes nothing."""
    row = find_mail(session, mail_id)
    if row is None or row.status != MailStatus.PENDING.value:
        return
    row.status, row.settled_at = status.value, at
    row.sent_to, row.detail = sent_to, detail

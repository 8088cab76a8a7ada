"""Activities of mail: how this worker sends it, the send of one outbox message, and
the record of how it ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from contracts.mail import MailDelivery, MailPlan, MailRecord
from documents.receipt_pdf import render_receipt_pdf
from domain.enums import Locale
from domain.mail import MAIL_OFF, NO_RECIPIENT, MailKind, MailStatus
from outbound.mail_message import Attachment, build_message
from outbound.mail_texts import letter
from outbound.smtp import Mailer, MailNotAccepted, MailRefused
from store.db import read_only, transaction
from store.mail import find_mail, settle_mail
from store.mail_models import MailMessage
from store.mail_recipient import locale_of, recipient
from store.receipts import receipt_by_id

NOT_ACCEPTED = "mail_not_accepted"  # retried: the server was away or said "later"
REFUSED = "mail_refused"  # not retried: the server refused the message for good


@dataclass(frozen=True)
class Outgoing:
    """A message ready to hand over, and to whom."""

    to: str
    message: EmailMessage


class MailActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._mailer = deps.mailer

    @activity.defn
    def plan_mail(self, delivery: MailDelivery) -> MailPlan:
        """How this worker sends mail (none: mail is off), recorded in the workflow's
        history so its retries follow one policy. Reads only settings."""
        return MailPlan(retry=None if self._mailer is None else self._mailer.retry)

    @activity.defn
    def send_mail(self, delivery: MailDelivery) -> MailStatus:
        """Hand the message to the SMTP server, then record it sent. Key: the outbox
        row: one no longer pending is not sent again. A retry after the server took it
        but before the record sends it again with the same Message-ID, which the
        receiver drops as a copy."""
        mailer = self._mailer
        at = activity.info().current_attempt_scheduled_time  # the server's clock
        if mailer is None:  # this worker has mail off although the one that planned had not
            return self._settle(delivery.mail_id, MailStatus.SKIPPED, at, detail=MAIL_OFF)
        outgoing = self.compose(delivery, mailer)
        if isinstance(outgoing, MailStatus):
            return outgoing
        if outgoing is None:
            return self._settle(delivery.mail_id, MailStatus.SKIPPED, at, detail=NO_RECIPIENT)
        try:
            mailer.send(outgoing.message)
        except MailRefused as exc:
            raise ApplicationError(str(exc), type=REFUSED, non_retryable=True) from None
        except MailNotAccepted as exc:
            raise ApplicationError(str(exc), type=NOT_ACCEPTED) from None
        return self._settle(delivery.mail_id, MailStatus.SENT, at, sent_to=outgoing.to)

    def compose(self, delivery: MailDelivery, mailer: Mailer) -> Outgoing | MailStatus | None:
        """The message of the outbox row, in the account's language, to the billing
        email or the primary admin; its status when it has ended already; None when
        there is no one to write to."""
        with read_only(self._sessions) as session:
            row = find_mail(session, delivery.mail_id)
            if row is None:
                raise LookupError(f"No mail {delivery.mail_id} in the outbox.")
            if row.status != MailStatus.PENDING.value:
                return MailStatus(row.status)
            to = recipient(session, row.account_id)
            if to is None:
                return None
            locale = locale_of(session, row.account_id)
            words = letter(MailKind(row.kind), row.data, locale)
            message = build_message(
                mail_id=row.mail_id,
                sender=mailer.sender,
                to=to,
                written_at=row.created_at,
                letter=words,
                attachment=_attachment(session, row, locale),
            )
        return Outgoing(to=to, message=message)

    @activity.defn
    def record_mail(self, record: MailRecord) -> None:
        """Record how the message ended. Idempotent: only a pending message changes."""
        self._settle(record.mail_id, record.status, record.at, detail=record.detail)

    def _settle(
        self,
        mail_id: str,
        status: MailStatus,
        at: datetime,
        *,
        sent_to: str | None = None,
        detail: str | None = None,
    ) -> MailStatus:
        with transaction(self._sessions) as session:
            settle_mail(session, mail_id, status, at, sent_to=sent_to, detail=detail)
        return status


def _attachment(session: Session, row: MailMessage, locale: Locale) -> Attachment | None:
    """A receipt's PDF, in the account's language (the same bytes on every attempt)."""
    if row.kind != MailKind.RECEIPT.value:
        return None
    receipt = receipt_by_id(session, row.reference)
    if receipt is None:
        raise LookupError(f"No receipt {row.reference} for mail {row.mail_id}.")
    return Attachment(filename=f"{receipt.number}.pdf", content=render_receipt_pdf(receipt, locale))


def mail_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    mail = MailActivities(deps)
    return [mail.plan_mail, mail.send_mail, mail.record_mail]

"""Mail to an account (API.md "Billing details, receipts and mail"): what is mailed,
where each message stands, and the messages of the workflow that sends one. Pure: no I/O.

Each message is written to the mail outbox in the transaction of its fact, once per
(account, kind, reference), and sent by its own workflow, whose id is made from that key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

MAIL_DELIVERY_WORKFLOW = "SmsMailDelivery"


class MailKind(StrEnum):
    """What a message is about; its reference names the fact."""

    RECEIPT = "receipt"  # reference: the receipt id; the receipt's PDF is attached
    PAST_DUE = "past_due"  # the renewal charge was declined: reference the credit month
    RENEWAL_DECLINED = "renewal_declined"  # a dunning retry declined: month and attempt
    LOW_BALANCE = "low_balance"  # reference: the low_balance event of the crossing
    ADDON_ENDED = "addon_ended"  # cancelled or suspended: reference the status and moment


class MailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # the SMTP server refused it, or was away, for every attempt
    SKIPPED = "skipped"  # mail was off (no SMS_SMTP_URL), or no one to write to


def mail_workflow_id(account_id: str, mail_id: str) -> str:
    """The id of the workflow that sends ``mail_id``, itself made from the message's
    key (``store.mail.mail_id_of``)."""
    return f"sms-mail:{account_id}:{mail_id}"


def message_id(mail_id: str, sender_domain: str) -> str:
    """The ``Message-ID`` of a message: the same for every attempt to send it, so a
    receiver drops a copy that a retry after a lost answer delivered again."""
    return f"<{mail_id}@{sender_domain}>"


class MailRetry(BaseModel):
    """How the worker retries one message (settings ``SMS_MAIL_*``): the bound is
    ``attempts``, spaced from ``first_backoff`` doubling up to ``longest_backoff``."""

    attempts: int
    first_backoff: timedelta
    longest_backoff: timedelta
    attempt_timeout: timedelta

    def backoff(self, failed_attempts: int) -> timedelta:
        """The wait after the ``failed_attempts``-th failure (1, 2, …)."""
        doublings = min(failed_attempts - 1, MAX_DOUBLINGS)
        doubled: timedelta = self.first_backoff * (1 << doublings)
        return min(doubled, self.longest_backoff)


# Past this many doublings every setting's longest backoff is reached (2**40 s is
# far longer than anyone waits), and the product stays a small number.
MAX_DOUBLINGS = 40


class MailDelivery(BaseModel):
    """Send one message of the outbox (``SmsMailDelivery``)."""

    account_id: str
    mail_id: str


class MailPlan(BaseModel):
    """What the worker will do with a message: ``retry`` None when mail is off."""

    retry: MailRetry | None


class MailRecord(BaseModel):
    mail_id: str
    status: MailStatus
    at: datetime
    detail: str | None = None

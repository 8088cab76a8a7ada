"""The mail-delivery workflow's contract: its name and id, its input, and what its
activities exchange."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from domain.mail import MailStatus

MAIL_DELIVERY_WORKFLOW = "SmsMailDelivery"

# Past this many doublings every setting's longest backoff is reached (2**40 s is
# far longer than anyone waits), and the product stays a small number.
MAX_DOUBLINGS = 40


def mail_workflow_id(account_id: str, mail_id: str) -> str:
    """The id of the workflow that sends ``mail_id``, itself made from the message's
    key (``store.mail.mail_id_of``)."""
    return f"sms-mail:{account_id}:{mail_id}"


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

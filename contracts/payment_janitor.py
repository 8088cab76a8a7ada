"""The payment janitor's messages (which payments it settles and what it found), and
what a workflow reads of a payment the janitor may have settled."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

OutcomeT = TypeVar("OutcomeT")

PAYMENT_JANITOR_WORKFLOW = "SmsPaymentJanitor"
PAYMENT_JANITOR_SCHEDULE = "sms-payment-janitor"


class JanitorRequest(BaseModel):
    """Settle payments whose outcome stayed unknown for ``older_than_seconds``."""

    older_than_seconds: int = Field(gt=0)
    limit: int = Field(default=50, gt=0)  # per run; the next run takes the rest


class JanitorReport(BaseModel):
    examined: int = 0
    succeeded: int = 0
    declined: int = 0
    still_open: int = 0


class SettledCharge(BaseModel):
    """A charge as the gateway recorded it: taken, or declined and why."""

    payment_id: str
    succeeded: bool
    amount_minor: int
    currency: str
    decline_reason: str | None = None
    # Settled without the card ever being asked (the provider never saw the attempt,
    # or it was abandoned unconfirmed): nothing was charged.
    unsent: bool = False


class Recorded(BaseModel, Generic[OutcomeT]):
    """What the payments table holds under a payment's key: its outcome, or None while
    it is pending (the payment janitor settles it against the provider)."""

    outcome: OutcomeT | None = None

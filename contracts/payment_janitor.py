"""The payment janitor's messages: which payments it settles and what it found."""

from __future__ import annotations

from pydantic import BaseModel, Field

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

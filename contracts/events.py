"""The event-delivery, event-sweep and auto top-up workflows' contract: their names and ids, inputs
and what their activities exchange."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from contracts.payment_janitor import SettledCharge
from domain.events import TopUpStatus

EVENT_DELIVERY_WORKFLOW = "SmsEventDelivery"


EVENT_SWEEP_WORKFLOW = "SmsEventSweep"


AUTO_TOP_UP_WORKFLOW = "SmsAutoTopUp"


EVENT_SWEEP_SCHEDULE = "sms-event-sweep"


# How long a delivery is retried before it is recorded failed (SMS_WEBHOOK_RETRY_DAYS).
DEFAULT_DELIVERY_RETRY = timedelta(days=3)


def delivery_workflow_id(account_id: str, event_id: str, round_: int = 0) -> str:
    """One workflow per delivery round: the first, then one per operator redelivery."""
    first = f"sms-event:{account_id}:{event_id}"
    return first if round_ == 0 else f"{first}:redelivery-{round_}"


def top_up_workflow_id(account_id: str, top_up_id: str) -> str:
    return f"sms-auto-top-up:{account_id}:{top_up_id}"


def top_up_refund_key(top_up_id: str) -> str:
    """The gateway key of the refund of a top-up whose credits could not be granted."""
    return f"refund:top-up:{top_up_id}"


class EventDelivery(BaseModel):
    """Deliver one event to the account's webhook (``SmsEventDelivery``): one round,
    retried for up to ``retry_for``. As an activity's input, ``attempt`` numbers the
    POST within the round (0: Temporal's attempt number, in histories from before)."""

    account_id: str
    event_id: str
    round: int = 0
    retry_for: timedelta = DEFAULT_DELIVERY_RETRY
    attempt: int = 0


class DeliveryAttempt(BaseModel):
    """How the round ended: ``sent`` (a 2xx), ``failure`` (why it failed), or neither
    when there was nothing to send (no webhook)."""

    sent: bool
    status_code: int | None = None
    failure: str | None = None


class DeliveryRecord(BaseModel):
    event_id: str
    sent: bool
    at: datetime
    round: int = 0
    failure: str | None = None


class TopUpStart(BaseModel):
    """Buy the auto top-up claimed by a debit (``SmsAutoTopUp``)."""

    account_id: str
    top_up_id: str


class TopUpCapture(SettledCharge):
    """An auto top-up's charge."""


class TopUpSettlement(BaseModel):
    """Settle a top-up by its charge; ``refused``: as declined for that reason (no
    charge could be made, ``capture`` None, or the one made was refunded)."""

    top_up_id: str
    capture: TopUpCapture | None
    at: datetime
    refused: str | None = None


class TopUpRefund(BaseModel):
    top_up_id: str
    payment_id: str
    at: datetime


class TopUpOutcome(BaseModel):
    status: TopUpStatus
    credits: int
    balance: int


class SweepReport(BaseModel):
    deliveries_started: int = 0
    top_ups_started: int = 0
    mails_started: int = 0

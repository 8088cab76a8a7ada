"""The event-delivery, event-sweep and auto top-up workflows' contract: their names and ids, inputs
and what their activities exchange."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.events import TopUpStatus

EVENT_DELIVERY_WORKFLOW = "SmsEventDelivery"


EVENT_SWEEP_WORKFLOW = "SmsEventSweep"


AUTO_TOP_UP_WORKFLOW = "SmsAutoTopUp"


EVENT_SWEEP_SCHEDULE = "sms-event-sweep"


def delivery_workflow_id(account_id: str, event_id: str) -> str:
    return f"sms-event:{account_id}:{event_id}"


def top_up_workflow_id(account_id: str, top_up_id: str) -> str:
    return f"sms-auto-top-up:{account_id}:{top_up_id}"


class EventDelivery(BaseModel):
    """Deliver one event to the account's webhook (``SmsEventDelivery``)."""

    account_id: str
    event_id: str


class DeliveryAttempt(BaseModel):
    """What one POST did; ``sent`` False when there was nothing to send (no webhook)."""

    sent: bool
    status_code: int | None = None


class DeliveryRecord(BaseModel):
    event_id: str
    sent: bool
    at: datetime


class TopUpStart(BaseModel):
    """Buy the auto top-up claimed by a debit (``SmsAutoTopUp``)."""

    account_id: str
    top_up_id: str


class TopUpCapture(BaseModel):
    payment_id: str
    succeeded: bool
    amount_minor: int
    currency: str
    decline_reason: str | None = None


class TopUpSettlement(BaseModel):
    top_up_id: str
    capture: TopUpCapture
    at: datetime


class TopUpOutcome(BaseModel):
    status: TopUpStatus
    credits: int
    balance: int


class SweepReport(BaseModel):
    deliveries_started: int = 0
    top_ups_started: int = 0
    mails_started: int = 0

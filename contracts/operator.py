"""What the operator actions exchange (API.md "Operators"): the refund workflow's
input and answer, ending an add-on now, and the names of the audit's actions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from domain.enums import AddonStatus, PaymentKind, PaymentStatus

OPERATOR_REFUND_WORKFLOW = "SmsOperatorRefund"
REFUND_OUTCOME_UPDATE = "outcome"
END_NOW_UPDATE = "end_now"
DEFAULT_OPERATOR = "admin"


class AuditAction(StrEnum):
    REFUND = "refund"
    GOODWILL = "goodwill"
    RETRY_PAYMENT = "retry_payment"
    CANCEL_AT_PERIOD_END = "cancel_at_period_end"
    END_NOW = "end_now"
    REDELIVER = "redeliver"  # a failed webhook delivery, sent again


class RefundRequestStatus(StrEnum):
    REQUESTED = "requested"  # recorded; its amount counts against the capture
    REFUNDED = "refunded"
    FAILED = "failed"  # the provider refused it; its amount is free again


def operator_refund_key(account_id: str, request_id: int) -> str:
    """The gateway key of one operator refund: one recorded request, one refund."""
    return f"refund:operator:{account_id}:{request_id}"


OPERATOR_REFUND_PREFIX = "refund:operator:"


def operator_refund_workflow_id(account_id: str, request_id: int) -> str:
    return f"sms-refund:{account_id}:{request_id}"


def operator_update_id(action: AuditAction, request_key: str) -> str:
    """The id of the subscription update an operator's request sends. Temporal keeps one
    update per id in a run, and answers a repeat with that update's outcome (still
    running, or done, also once the run has closed): a request repeated after a lost
    answer attaches to the first one instead of acting, or being refused, again."""
    return f"{action.value}:{request_key}"


def end_now_refund_key(account_id: str, period_start: datetime, payment_id: str) -> str:
    """One prorated refund per capture of the period an add-on was ended in."""
    return f"refund:end-now:{account_id}:{period_start:%Y-%m-%d}:{payment_id}"


class OperatorRefundStart(BaseModel):
    account_id: str
    request_id: int
    payment_id: str
    amount_minor: int
    currency: str
    revoke_credits: bool
    requested_at: datetime


class RefundedPayment(BaseModel):
    """The refund payment, as ``GET …/payments`` lists it, and what it took back."""

    payment_id: str
    at: datetime
    kind: PaymentKind
    amount_minor: int
    currency: str
    status: PaymentStatus
    reference: str
    refund_of: str | None = None
    provider_ref: str | None = None
    credits_revoked: int = 0


class SettleRefund(BaseModel):
    request_id: int
    refund_payment_id: str
    at: datetime


class EndNow(BaseModel):
    """An operator ends the add-on at once; ``prorated`` refunds the unused days."""

    account_id: str
    requested_by: str
    prorated: bool


class EndNowRefund(BaseModel):
    account_id: str
    period_start: datetime
    period_end: datetime
    recurring_minor: int
    at: datetime


class EndedNow(BaseModel):
    status: AddonStatus
    ends_at: datetime
    credits_expired: int
    refunds: list[RefundedPayment]

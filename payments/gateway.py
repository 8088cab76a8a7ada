"""The payment gateway interface. A real provider adapter implements ``PaymentGateway``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from domain.enums import PaymentKind, PaymentStatus


class PaymentResult(BaseModel):
    """What the gateway answered for one capture or refund."""

    payment_id: str
    kind: PaymentKind
    status: PaymentStatus
    amount_minor: int
    currency: str
    decline_reason: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is PaymentStatus.SUCCEEDED


class GatewayUnavailable(Exception):
    """The gateway's answer was lost (timeout, network). Retrying with the same
    idempotency key is safe and returns the first result."""


class UnknownPayment(Exception):
    """A refund named a payment the gateway never captured."""


class PaymentGateway(Protocol):
    def capture(
        self,
        *,
        account_id: str,
        amount_minor: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        reference: str,
        at: datetime,
    ) -> PaymentResult:
        """Charge the payment method. A decline is a result, not an exception;
        the same key always returns the same result and never charges twice."""
        ...

    def refund(
        self, *, payment_id: str, idempotency_key: str, reference: str, at: datetime
    ) -> PaymentResult:
        """Refund a captured payment in full; idempotent by key."""
        ...

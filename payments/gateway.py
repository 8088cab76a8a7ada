"""The payment gateway interface. A real provider adapter implements ``PaymentGateway``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from contracts.payment_janitor import JanitorReport
from domain.enums import PaymentKind, PaymentStatus
from domain.receipts import ReceiptLine


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


class PaymentUnknown(GatewayUnavailable):
    """The provider's outcome is not known yet (network error, timeout, 5xx, an intent
    still processing). The attempt is recorded; retrying with the same key settles
    it by looking the provider's object up, never by charging again. Retryable."""


class GatewayRejected(Exception):
    """The provider refused the request itself (bad API key, invalid parameters such as
    an amount below its minimum). Not a decline, and retrying will not help: an
    operator must fix the configuration or the data. Not retryable."""


class UnknownPayment(Exception):
    """A refund named a payment the gateway never captured."""


def refund_made(result: PaymentResult) -> PaymentResult:
    """``result``, when the provider made the refund; one it declined is its refusal."""
    if not result.succeeded:
        raise GatewayRejected(result.decline_reason or "The provider declined the refund.")
    return result


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
        lines: Sequence[ReceiptLine] = (),
    ) -> PaymentResult:
        """Charge the payment method in ``currency``. A decline is a result, not an
        exception; the same key always returns the same result and never charges twice.
        A success gets its receipt, listing ``lines`` (none: the reference, one line),
        in the transaction that records it."""
        ...

    def refund(
        self,
        *,
        payment_id: str,
        idempotency_key: str,
        reference: str,
        at: datetime,
        amount_minor: int | None = None,
    ) -> PaymentResult:
        """Refund a captured payment, in full (``amount_minor`` None) or in part, in the
        capture's currency; idempotent by key; a success gets its receipt. The caller
        keeps partial refunds within the capture (an operator refund records its intent,
        with the remainder checked, first)."""
        ...


@runtime_checkable
class SettlesStale(Protocol):
    """A gateway whose outcomes can stay unknown (a real provider) and that can settle
    them later against the provider; the payment janitor calls it."""

    def settle_stale(self, *, now: datetime, older_than: timedelta, limit: int) -> JanitorReport:
        """Settle payments pending longer than ``older_than`` (at most ``limit``)."""
        ...

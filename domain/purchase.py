"""Messages of the purchase workflow, shared by the workflow, its activities and the API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from domain.catalogue import Catalogue, RecurringItem
from domain.enums import AddonStatus, BillingCycle, ItemType, Plan, PurchaseStatus
from domain.pricing import Quote

TERMINAL_STATUSES = frozenset(
    {
        PurchaseStatus.COMPLETED,
        PurchaseStatus.DECLINED,
        PurchaseStatus.REFUNDED,
        PurchaseStatus.EXPIRED,
        PurchaseStatus.CANCELLED,
        PurchaseStatus.REJECTED,
    }
)


# Why a paid purchase was refunded: its credits could not be granted.
GRANT_FAILED = "grant_failed"


def purchase_workflow_id(account_id: str, purchase_id: str) -> str:
    return f"sms-purchase:{account_id}:{purchase_id}"


def payment_key(purchase_id: str) -> str:
    """The capture's idempotency key (DESIGN.md §3): one purchase, one charge."""
    return f"purchase:{purchase_id}"


def refund_key(purchase_id: str) -> str:
    return f"refund:purchase:{purchase_id}"


class PurchaseItem(BaseModel):
    """What is bought: an add-on ``tier`` or a credit ``pack``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ItemType
    tier: str | None = None
    pack: str | None = None

    @model_validator(mode="after")
    def _one_id_for_its_type(self) -> Self:
        wanted, other = ("tier", "pack") if self.type is ItemType.ADDON else ("pack", "tier")
        if not getattr(self, wanted):
            raise ValueError(f"item of type {self.type.value} needs `{wanted}`")
        if getattr(self, other) is not None:
            raise ValueError(f"item of type {self.type.value} takes no `{other}`")
        return self

    @model_serializer(mode="wrap")
    def _without_the_other_id(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``{"type": "addon", "tier": …}`` as API.md shows it, without ``"pack": null``."""
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}

    @property
    def item_id(self) -> str:
        return self.tier or self.pack or ""

    def priced_in(self, catalogue: Catalogue) -> RecurringItem | None:
        """The catalogue's tier or pack this names, if it exists."""
        if self.type is ItemType.ADDON:
            return catalogue.addon_tier(self.item_id)
        return catalogue.credit_pack(self.item_id)


class PurchaseInput(BaseModel):
    purchase_id: str
    account_id: str
    user_id: str
    item: PurchaseItem
    quote_ttl: timedelta


class CallerCheck(BaseModel):
    """Input of the permission check: a user of an account, read fresh each time."""

    account_id: str
    user_id: str


class Decision(BaseModel):
    """Who confirms or cancels a quote: checked afresh, never trusted from the caller."""

    user_id: str


class EligibilityCheck(BaseModel):
    account_id: str
    item: PurchaseItem


class AccountSnapshot(BaseModel):
    """What pricing needs, read when the account was found eligible."""

    account_id: str
    plan: Plan
    billing_cycle: BillingCycle
    billing_anchor: date
    currency: str
    payment_method: str
    addon_status: AddonStatus
    monthly_credits: int
    recurring_minor: int
    item: RecurringItem


class Failure(BaseModel):
    code: str
    message: str


class PaymentRef(BaseModel):
    payment_id: str
    amount_minor: int
    currency: str


class PurchaseView(BaseModel):
    """A purchase as API.md shows it."""

    purchase_id: str
    status: PurchaseStatus
    item: PurchaseItem
    quote: Quote | None = None
    payment: PaymentRef | None = None
    failure: Failure | None = None
    created_at: datetime
    completed_at: datetime | None = None


class CaptureRequest(BaseModel):
    account_id: str
    purchase_id: str
    amount_minor: int
    currency: str
    at: datetime


class CaptureResult(BaseModel):
    payment: PaymentRef
    succeeded: bool
    decline_reason: str | None = None


class GrantRequest(BaseModel):
    account_id: str
    purchase_id: str
    item: PurchaseItem
    currency: str
    at: datetime


class RefundRequest(BaseModel):
    account_id: str
    purchase_id: str
    payment_id: str
    at: datetime

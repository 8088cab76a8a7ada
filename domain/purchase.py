"""Messages of the purchase workflow, shared by the workflow, its activities and the API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from domain.catalogue import Catalogue, RecurringItem
from domain.enums import AddonStatus, BillingCycle, ItemType, Plan, PurchaseStatus, Role
from domain.errors import ErrorCode
from domain.pricing import Quote, TierChange, build_quote, price_tier_change
from domain.tier_change import tier_change_refusal

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

# Add-on states in which the add-on is held and cannot be bought again.
HELD_ADDON_STATUSES = frozenset({AddonStatus.ACTIVE, AddonStatus.PAST_DUE, AddonStatus.CANCELLING})


class Phase(StrEnum):
    """Where a purchase workflow is; the one state its messages are validated against."""

    PRICING = "pricing"  # permission, eligibility and the quote are being worked out
    AWAITING_DECISION = "awaiting_decision"  # the quote waits for confirm, cancel or expiry
    CONFIRMED = "confirmed"  # claim, capture and grant under way; a second confirm joins
    CANCELLED = "cancelled"  # the customer cancelled; the purchase is ending
    ENDED = "ended"  # the outcome is recorded; no message changes it


def may_buy(role: Role, billing_permission: bool) -> bool:
    """DESIGN.md rule 1: the primary admin, or a user with the billing permission."""
    return role is Role.PRIMARY_ADMIN or billing_permission


def eligibility_refusal(
    *,
    item_type: ItemType,
    plan_eligible: bool,
    addon_status: AddonStatus,
    addon_purchase_in_flight: bool = False,
    tier: str | None = None,
    current_tier: str | None = None,
) -> tuple[ErrorCode, str] | None:
    """Why the account may not receive the item now (DESIGN.md rules 2 and 8), or None.

    ``addon_purchase_in_flight``: another purchase of the add-on holds its claim
    (confirmed, money moving), so the add-on is as good as held. ``tier`` and
    ``current_tier`` (the add-on tier asked for, the one held): another tier than
    the held one is a tier change, which needs the add-on ``active``.
    """
    if not plan_eligible:
        return (
            ErrorCode.PLAN_NOT_ELIGIBLE,
            "The SMS add-on needs a Plus, Professional or Enterprise plan.",
        )
    held = addon_status in HELD_ADDON_STATUSES or addon_purchase_in_flight
    changes_tier = (
        item_type is ItemType.ADDON
        and addon_status in HELD_ADDON_STATUSES
        and None not in (tier, current_tier)
        and tier != current_tier
    )
    if changes_tier:
        return tier_change_refusal(addon_status=addon_status)
    if item_type is ItemType.ADDON and held:
        return ErrorCode.ADDON_ALREADY_ACTIVE, "The SMS add-on is already active."
    if item_type is ItemType.CREDIT_PACK and (
        addon_status is not AddonStatus.ACTIVE or addon_purchase_in_flight
    ):
        return ErrorCode.ADDON_NOT_ACTIVE, "Credit packs need an active SMS add-on."
    return None


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
    # When the purchase was recorded (its row); one moment, shown everywhere.
    created_at: datetime | None = None


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
    # The moment the add-on's lines are read at (a tier line may end or start later).
    at: datetime | None = None


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
    # The active add-on's tier line, priced as bought, when the item changes its tier.
    current_tier: RecurringItem | None = None


class PriceRequest(BaseModel):
    """Input of the quote step: the eligible account's snapshot, priced at ``at``."""

    snapshot: AccountSnapshot
    at: datetime
    ttl: timedelta

    def quote(self) -> Quote:
        snapshot = self.snapshot
        if snapshot.current_tier is not None:
            return price_tier_change(
                current=snapshot.current_tier,
                new=snapshot.item,
                cycle=snapshot.billing_cycle,
                anchor=snapshot.billing_anchor,
                currency=snapshot.currency,
                current_monthly_credits=snapshot.monthly_credits,
                current_recurring_minor=snapshot.recurring_minor,
                now=self.at,
                ttl=self.ttl,
            )
        return build_quote(
            item=snapshot.item,
            cycle=snapshot.billing_cycle,
            anchor=snapshot.billing_anchor,
            currency=snapshot.currency,
            current_monthly_credits=snapshot.monthly_credits,
            current_recurring_minor=snapshot.recurring_minor,
            now=self.at,
            ttl=self.ttl,
        )


class ClaimRequest(BaseModel):
    """Take the right to the item before any money moves (API.md: purchases never race).
    ``record``: the purchase as it stands once claimed, written in the same transaction."""

    account_id: str
    purchase_id: str
    item: PurchaseItem
    # The quote was priced for the credit month ending here; past it, it is stale.
    quote_month_end: datetime
    at: datetime
    # The quoted tier change (None: a new add-on or a pack).
    tier_change: TierChange | None = None
    record: PurchaseView | None = None


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


class QuoteRequest(BaseModel):
    """The review in one step: may ``user_id`` buy, may the account have the item, its
    price at ``at``; ``record`` (awaiting confirmation) is written with the quote."""

    caller: CallerCheck
    eligibility: EligibilityCheck
    ttl: timedelta
    record: PurchaseView


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
    # A tier change applies the quoted change: when, and the credits granted now.
    tier_change: TierChange | None = None
    effective_at: datetime | None = None
    credits_now: int = 0
    # The purchase as it stands once granted (completed), written in the same transaction.
    record: PurchaseView | None = None


class RefundRequest(BaseModel):
    account_id: str
    purchase_id: str
    payment_id: str
    at: datetime


ClaimRequest.model_rebuild()  # ``record`` names PurchaseView, defined after it

"""A purchase's rules: who may buy, what the account may receive now, what is bought,
and where a purchase stands."""

from __future__ import annotations

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
from domain.enums import AddonStatus, Currency, ItemType, PurchaseStatus, Role
from domain.errors import ErrorCode
from domain.tier_change import tier_change_refusal

TERMINAL_STATUSES = frozenset(
    {
        PurchaseStatus.COMPLETED,
        PurchaseStatus.DECLINED,
        PurchaseStatus.REFUNDED,
        PurchaseStatus.EXPIRED,
        PurchaseStatus.CANCELLED,
        PurchaseStatus.REJECTED,
        PurchaseStatus.FAILED,
        PurchaseStatus.NEEDS_ATTENTION,
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

    def priced_in(self, catalogue: Catalogue, currency: Currency) -> RecurringItem | None:
        """The catalogue's tier or pack this names, priced in ``currency``, if it exists."""
        if self.type is ItemType.ADDON:
            return catalogue.addon_tier(self.item_id, currency)
        return catalogue.credit_pack(self.item_id, currency)


class Failure(BaseModel):
    code: str
    message: str

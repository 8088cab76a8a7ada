"""Auto top-up's terms (API.md "Alerts, events and auto top-up"): it needs an active
add-on, and one top-up buys a credit pack's credits once at the pack's monthly price,
whatever the account's billing cycle."""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalogue import RecurringItem
from domain.enums import AddonStatus, BillingCycle
from domain.errors import ErrorCode


@dataclass(frozen=True)
class TopUpTerms:
    """What one top-up grants and charges."""

    pack: str
    credits: int
    price_minor: int
    currency: str


def top_up_refusal(addon_status: AddonStatus) -> tuple[ErrorCode, str] | None:
    """Why auto top-up may not be turned on now, or None."""
    if addon_status is not AddonStatus.ACTIVE:
        return ErrorCode.ADDON_NOT_ACTIVE, "Auto top-up needs an active SMS add-on."
    return None


def top_up_terms(pack: RecurringItem, currency: str) -> TopUpTerms:
    return TopUpTerms(
        pack=pack.id,
        credits=pack.credits_per_month,
        price_minor=pack.price_minor(BillingCycle.MONTHLY),
        currency=currency,
    )

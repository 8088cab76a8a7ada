"""When the active add-on may move to another tier (API.md "Changing tier").

A tier change is an add-on purchase of another tier while the add-on is held.
It needs the add-on ``active`` (not past due, not cancelling); its confirm takes
the account's one add-on claim like any add-on purchase, so two changes (or a
change and a new add-on) confirmed together never both move money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.enums import AddonStatus
from domain.errors import ErrorCode
from domain.pricing import TierChange, TierDirection


def tier_change_refusal(
    *,
    addon_status: AddonStatus,
    addon_purchase_in_flight: bool = False,
    change: TierChange | None = None,
    current_tier: str | None = None,
) -> tuple[ErrorCode, str] | None:
    """Why the add-on's tier may not change now, or None. A change needs the add-on
    ``active``; when it is claimed (``change`` is the quoted one) no other add-on
    purchase may be in flight and the add-on must still be on the quoted tier."""
    if addon_status is not AddonStatus.ACTIVE:
        hint = " Resume it first." if addon_status is AddonStatus.CANCELLING else ""
        return ErrorCode.ADDON_NOT_ACTIVE, f"Changing the tier needs an active SMS add-on.{hint}"
    if change is None:
        return None
    if addon_purchase_in_flight:
        return ErrorCode.CONFLICT, "Another change of the SMS add-on is in progress; try again."
    if current_tier == change.to_tier:
        return ErrorCode.ADDON_ALREADY_ACTIVE, f"The SMS add-on is already on {change.to_tier}."
    if current_tier != change.from_tier:
        return ErrorCode.CONFLICT, "The add-on changed since this quote; ask for a new one."
    return None


@dataclass(frozen=True)
class TierSwitch:
    """What a tier change does to the add-on's tier lines (the store writes it). A tier
    line still waiting for its renewal (an earlier downgrade) is retired: this change
    replaces it."""

    held_ends_at: datetime  # the tier held now stops counting then
    held_still_counts: bool  # until then (a downgrade), or retired at once (an upgrade)
    new_starts_at: datetime | None  # the new tier's line counts from then; None: at once
    tier_moves_now: bool  # the add-on is on the new tier from now


def tier_switch(direction: TierDirection, at: datetime, effective_at: datetime) -> TierSwitch:
    """An upgrade moves at once (``at``); a downgrade at ``effective_at``, the next renewal."""
    if direction is TierDirection.UPGRADE:
        return TierSwitch(
            held_ends_at=at, held_still_counts=False, new_starts_at=None, tier_moves_now=True
        )
    return TierSwitch(
        held_ends_at=effective_at,
        held_still_counts=True,
        new_starts_at=effective_at,
        tier_moves_now=False,
    )

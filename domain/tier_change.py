"""When the active add-on may move to another tier (API.md "Changing tier").

A tier change is an add-on purchase of another tier while the add-on is held.
It needs the add-on ``active`` (not past due, not cancelling); its confirm takes
the account's one add-on claim like any add-on purchase, so two changes (or a
change and a new add-on) confirmed together never both move money.
"""

from __future__ import annotations

from domain.enums import AddonStatus
from domain.errors import ErrorCode
from domain.pricing import TierChange


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

"""The add-on's recurring lines as the API lists them, and ending a credit pack at the
next renewal (API.md "The add-on")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.subscription import AddonLine, LineEnd, LineKind
from domain.billing import BilledLine
from domain.enums import BillingCycle, ItemType
from domain.errors import DomainError, ErrorCode
from store.ledger import lock_account
from store.models import AddonSubscription, SubscriptionItem
from store.outlook import billed_line


def addon_line(line: BilledLine, cycle: BillingCycle) -> AddonLine:
    """A line as the API lists it: its price on the add-on's billing cycle."""
    return AddonLine(
        line_id=line.line_id,
        kind=LineKind.TIER if line.kind is ItemType.ADDON else LineKind.CREDIT_PACK,
        item_id=line.item_id,
        credits_per_month=line.credits_per_month,
        price_minor=line.price_minor(cycle),
        ends_at=line.ends_at,
        starts_at=line.starts_at,
    )


def end_pack_line(session: Session, end: LineEnd) -> AddonLine:
    """End a credit pack at ``end.ends_at``: it counts until then and is neither granted
    nor charged after. Idempotent: a line already ending keeps its first end. The tier
    line cannot end alone (``conflict``: cancel the add-on instead)."""
    lock_account(session, end.account_id)
    item = session.scalars(
        select(SubscriptionItem).where(
            SubscriptionItem.account_id == end.account_id,
            SubscriptionItem.purchase_id == end.line_id,
            SubscriptionItem.active,
        )
    ).first()
    if item is None or (item.ends_at is not None and item.ends_at <= end.at):
        raise DomainError(ErrorCode.NOT_FOUND, f"Line {end.line_id} was not found.")
    if item.kind == ItemType.ADDON.value:
        raise DomainError(
            ErrorCode.CONFLICT,
            "The tier line cannot end on its own; cancel the add-on instead.",
        )
    if item.ends_at is None:
        item.ends_at = end.ends_at
    addon = session.get(AddonSubscription, end.account_id)
    cycle = BillingCycle.MONTHLY if addon is None else BillingCycle(addon.billing_cycle)
    return addon_line(billed_line(item), cycle)

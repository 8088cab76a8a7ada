"""The add-on's recurring lines as the billing page lists them, and ending a credit
pack at the next renewal (API.md "The add-on")."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from contracts.subscription import AddonLine, LineEnd, LineKind
from domain.enums import AddonStatus, BillingCycle, ItemType
from domain.errors import DomainError, ErrorCode
from store.ledger import lock_account
from store.models import AddonSubscription, SubscriptionItem
from store.subscriptions import item_price

ENDED = frozenset({AddonStatus.INACTIVE, AddonStatus.CANCELLED, AddonStatus.SUSPENDED})


def line_of(item: SubscriptionItem, cycle: BillingCycle) -> AddonLine:
    return AddonLine(
        line_id=item.purchase_id,
        kind=LineKind.TIER if item.kind == ItemType.ADDON.value else LineKind.CREDIT_PACK,
        item_id=item.item_id,
        credits_per_month=item.credits_per_month,
        price_minor=item_price(item, cycle),
        ends_at=item.ends_at,
        starts_at=item.starts_at,
    )


def addon_lines(session: Session, addon: AddonSubscription | None) -> list[AddonLine]:
    """The lines of a live add-on in its current credit month, and those that start at
    its next renewal; none once it has ended."""
    if addon is None or AddonStatus(addon.status) in ENDED or addon.period_start is None:
        return []
    month_start = addon.period_start
    items = session.scalars(
        select(SubscriptionItem)
        .where(
            SubscriptionItem.account_id == addon.account_id,
            SubscriptionItem.active,
            or_(SubscriptionItem.ends_at.is_(None), SubscriptionItem.ends_at > month_start),
        )
        .order_by(SubscriptionItem.id)
    )
    cycle = BillingCycle(addon.billing_cycle)
    return [line_of(item, cycle) for item in items]


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
    return line_of(item, cycle)

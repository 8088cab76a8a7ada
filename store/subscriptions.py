"""The add-on's recurring lines and the billing-page row, written with the credits they grant.

Activation (or a pack) and its grant happen in the caller's one transaction and
are idempotent by the purchase id: a retried grant finds the line it wrote.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from domain.addon import AddonRow, AddonTotals
from domain.calendar import billing_period, credit_month
from domain.catalogue import RecurringItem
from domain.enums import AddonStatus, BillingCycle, GrantSource, ItemType
from domain.errors import DomainError, ErrorCode
from domain.pricing import TierDirection
from domain.tier_change import tier_switch
from store.ledger import grant_credits, lock_account
from store.models import Account, AddonSubscription, SubscriptionItem
from store.outlook import billed_lines, write_figures


def purchase_grant_key(purchase_id: str) -> str:
    return f"purchase:{purchase_id}:grant"


def in_force(at: datetime) -> ColumnElement[bool]:
    """Lines that count at ``at``: started (or unbounded) and not yet ended."""
    return and_(
        or_(SubscriptionItem.starts_at.is_(None), SubscriptionItem.starts_at <= at),
        or_(SubscriptionItem.ends_at.is_(None), SubscriptionItem.ends_at > at),
    )


def active_items(
    session: Session, account_id: str, at: datetime | None = None
) -> list[SubscriptionItem]:
    """The add-on's lines in force at ``at``; with no ``at``, every line not yet
    retired, including those that start or end later."""
    query = select(SubscriptionItem).where(
        SubscriptionItem.account_id == account_id, SubscriptionItem.active
    )
    if at is not None:
        query = query.where(in_force(at))
    return list(session.scalars(query.order_by(SubscriptionItem.id)))


def current_tier_line(session: Session, account_id: str, at: datetime) -> SubscriptionItem | None:
    """The tier line in force at ``at``."""
    tiers = [i for i in active_items(session, account_id, at) if i.kind == ItemType.ADDON.value]
    return tiers[-1] if tiers else None


def _add_line(
    session: Session,
    account: Account,
    kind: ItemType,
    item: RecurringItem,
    purchase_id: str,
    at: datetime,
    starts_at: datetime | None = None,
) -> None:
    session.add(
        SubscriptionItem(
            account_id=account.id,
            kind=kind.value,
            item_id=item.id,
            credits_per_month=item.credits_per_month,
            monthly_price_minor=item.price_minor(BillingCycle.MONTHLY),
            annual_price_minor=item.price_minor(BillingCycle.ANNUAL),
            purchase_id=purchase_id,
            active=True,
            added_at=at,
            starts_at=starts_at,
        )
    )
    session.flush()


def _already_applied(session: Session, purchase_id: str) -> bool:
    found = session.scalars(
        select(SubscriptionItem.id).where(SubscriptionItem.purchase_id == purchase_id)
    ).first()
    return found is not None


def activate_addon(
    session: Session,
    *,
    account_id: str,
    purchase_id: str,
    tier: RecurringItem,
    currency: str,
    at: datetime,
) -> AddonSubscription:
    """Activate the add-on with ``tier`` and grant its credits until the next renewal."""
    account = lock_account(session, account_id)
    addon = session.get(AddonSubscription, account_id)
    if _already_applied(session, purchase_id):
        assert addon is not None
        return addon
    for old in active_items(session, account_id):  # lines of an earlier, ended add-on
        old.active = False
    cycle = BillingCycle(account.billing_cycle)
    month = credit_month(account.billing_anchor, at)
    if addon is None:
        addon = AddonSubscription(account_id=account_id, monthly_credits=0, recurring_minor=0)
        session.add(addon)
    paid_through = billing_period(account.billing_anchor, cycle, at).end
    addon.status = AddonStatus.ACTIVE.value
    addon.tier = tier.id
    addon.currency = currency
    addon.billing_cycle = cycle.value
    addon.period_start, addon.period_end = month.start, month.end
    addon.next_charge_at = paid_through
    # As the subscription prices it (AddonState.charge_due at the end of the paid period).
    addon.next_charge_cycle, addon.next_charge_priced_at = cycle.value, paid_through
    addon.activated_at = at
    addon.ends_at = None
    addon.updated_at = at
    _add_line(session, account, ItemType.ADDON, tier, purchase_id, at)
    write_figures(session, addon, account.billing_anchor)
    grant_credits(
        session,
        account_id=account_id,
        source=GrantSource.ADDON,
        credits=tier.credits_per_month,
        expires_at=month.end,
        at=at,
        reference=f"purchase {purchase_id}",
        key=purchase_grant_key(purchase_id),
    )
    return addon


def add_credit_pack(
    session: Session, *, account_id: str, purchase_id: str, pack: RecurringItem, at: datetime
) -> AddonSubscription:
    """Raise the allotment and the recurring charge by ``pack``; grant its credits now."""
    account = lock_account(session, account_id)
    addon = session.get(AddonSubscription, account_id)
    if addon is None:
        raise LookupError(f"Account {account_id} has no add-on to add a credit pack to.")
    if _already_applied(session, purchase_id):
        return addon
    _add_line(session, account, ItemType.CREDIT_PACK, pack, purchase_id, at)
    write_figures(session, addon, account.billing_anchor)
    addon.updated_at = at
    grant_credits(
        session,
        account_id=account_id,
        source=GrantSource.PACK,
        credits=pack.credits_per_month,
        expires_at=credit_month(account.billing_anchor, at).end,
        at=at,
        reference=f"purchase {purchase_id}",
        key=purchase_grant_key(purchase_id),
    )
    return addon


def change_tier(
    session: Session,
    *,
    account_id: str,
    purchase_id: str,
    tier: RecurringItem,
    direction: TierDirection,
    effective_at: datetime,
    credits_now: int,
    at: datetime,
) -> AddonSubscription:
    """Move the add-on to ``tier`` in one transaction, idempotent by the purchase id:
    its tier lines as ``domain.tier_change.tier_switch`` says, and an upgrade's
    ``credits_now`` granted until the next renewal."""
    account = lock_account(session, account_id)
    addon = session.get(AddonSubscription, account_id)
    if addon is None:
        raise LookupError(f"Account {account_id} has no add-on to change.")
    if _already_applied(session, purchase_id):
        return addon
    switch = tier_switch(direction, at, effective_at)
    current = current_tier_line(session, account_id, at)
    for line in active_items(session, account_id):
        if line.kind == ItemType.ADDON.value and line is not current:
            line.active = False  # a change still waiting for its renewal
    if current is not None:
        current.ends_at, current.active = switch.held_ends_at, switch.held_still_counts
    _add_line(session, account, ItemType.ADDON, tier, purchase_id, at, switch.new_starts_at)
    write_figures(session, addon, account.billing_anchor)
    if switch.tier_moves_now:
        addon.tier = tier.id
    addon.updated_at = at
    if credits_now > 0:
        grant_credits(
            session,
            account_id=account_id,
            source=GrantSource.ADDON,
            credits=credits_now,
            expires_at=credit_month(account.billing_anchor, at).end,
            at=at,
            reference=f"purchase {purchase_id}",
            key=purchase_grant_key(purchase_id),
        )
    return addon


def addon_totals(session: Session, account_id: str, at: datetime) -> AddonTotals:
    """The allotment and recurring price, on both cycles, of the lines in force at
    ``at``, with every line not ended by then."""
    return AddonTotals.at(billed_lines(session, account_id), at)


def save_addon(session: Session, row: AddonRow, at: datetime) -> AddonTotals:
    """Write the subscription's view of the add-on to its billing-page row; the
    allotment and the next charge's amount come from its lines (store.outlook)."""
    addon = session.get(AddonSubscription, row.account_id, with_for_update=True)
    if addon is None:
        raise DomainError(ErrorCode.ADDON_NOT_ACTIVE, f"Account {row.account_id} has no add-on.")
    account = session.get(Account, row.account_id)
    assert account is not None, "an add-on belongs to an account"
    tier = current_tier_line(session, row.account_id, at)
    if tier is not None:
        addon.tier = tier.item_id
    addon.status = row.status.value
    addon.billing_cycle = row.billing_cycle.value
    addon.period_start, addon.period_end = row.month.start, row.month.end
    addon.next_charge_at = row.next_charge_at
    charge = row.next_charge
    addon.next_charge_cycle = None if charge is None else charge.cycle.value
    addon.next_charge_priced_at = None if charge is None else charge.priced_at
    addon.ends_at = row.ends_at
    addon.updated_at = at
    write_figures(session, addon, account.billing_anchor)
    return addon_totals(session, row.account_id, at)

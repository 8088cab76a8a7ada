"""The add-on's figures read from its row and its lines (``domain.addon_outlook``), and
written back onto the row whenever either changes, so the row never says otherwise."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.addon_outlook import AddonOutlook, AddonRow, addon_outlook
from domain.billing import AddonTotals, BilledLine, BillingCharge
from domain.calendar import Period
from domain.enums import AddonStatus, BillingCycle, ItemType
from store.models import AddonSubscription, SubscriptionItem


def billed_line(item: SubscriptionItem) -> BilledLine:
    return BilledLine(
        line_id=item.purchase_id,
        kind=ItemType(item.kind),
        item_id=item.item_id,
        credits_per_month=item.credits_per_month,
        monthly_minor=item.monthly_price_minor,
        annual_minor=item.annual_price_minor,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
    )


def billed_lines(session: Session, account_id: str) -> list[BilledLine]:
    """Every line of the add-on not retired, including those that start or end later."""
    items = session.scalars(
        select(SubscriptionItem)
        .where(SubscriptionItem.account_id == account_id, SubscriptionItem.active)
        .order_by(SubscriptionItem.id)
    )
    return [billed_line(item) for item in items]


def addon_row(addon: AddonSubscription, anchor: date) -> AddonRow | None:
    """The row as the subscription wrote it; None before it has a credit month."""
    if addon.period_start is None or addon.period_end is None:
        return None
    charge = None
    if addon.next_charge_cycle is not None and addon.next_charge_priced_at is not None:
        cycle = BillingCycle(addon.next_charge_cycle)
        charge = BillingCharge.due_at(anchor, cycle, addon.next_charge_priced_at)
    return AddonRow(
        account_id=addon.account_id,
        status=AddonStatus(addon.status),
        billing_cycle=BillingCycle(addon.billing_cycle),
        month=Period(start=addon.period_start, end=addon.period_end),
        next_charge_at=addon.next_charge_at,
        next_charge=charge,
        ends_at=addon.ends_at,
    )


def outlook_of(session: Session, addon: AddonSubscription, anchor: date) -> AddonOutlook | None:
    row = addon_row(addon, anchor)
    if row is None:
        return None
    return addon_outlook(row, addon.currency, billed_lines(session, addon.account_id))


def write_figures(session: Session, addon: AddonSubscription, anchor: date) -> AddonTotals:
    """Set the row's allotment, recurring price and next charge from its lines (after
    any change of either); answers the totals of this credit month, lines included."""
    lines = billed_lines(session, addon.account_id)
    assert addon.period_start is not None, "an add-on with lines has a credit month"
    totals = AddonTotals.at(lines, addon.period_start)
    outlook = outlook_of(session, addon, anchor)
    charge = None if outlook is None else outlook.next_charge
    addon.monthly_credits = totals.monthly_credits
    addon.recurring_minor = totals.recurring_minor(BillingCycle(addon.billing_cycle))
    addon.next_charge_minor = None if charge is None else charge.amount_minor
    return totals

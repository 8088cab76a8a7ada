"""Pricing and proration (DESIGN.md §1): integer minor units, rounded half up."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.calendar import billing_period, credit_month, days_left
from domain.catalogue import RecurringItem
from domain.enums import BillingCycle


class QuoteLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    amount_minor: int


class Quote(BaseModel):
    """The review-purchase quote of API.md: what is due now and the billing change."""

    model_config = ConfigDict(frozen=True)

    currency: str
    lines: list[QuoteLine]
    due_now_minor: int
    recurring_minor: int
    interval: str
    next_charge_at: datetime
    credits_now: int
    monthly_credits_after: int
    credits_expire_at: datetime
    expires_at: datetime


def prorate(price_minor: int, days_left: int, days_in_period: int) -> int:
    """``round(price * days_left / days_in_period)``, half up, in integers only."""
    if not 0 <= days_left <= days_in_period or days_in_period <= 0:
        raise ValueError(f"days_left {days_left} outside period of {days_in_period} days")
    return (2 * price_minor * days_left + days_in_period) // (2 * days_in_period)


def build_quote(
    *,
    item: RecurringItem,
    cycle: BillingCycle,
    anchor: date,
    currency: str,
    current_monthly_credits: int,
    current_recurring_minor: int,
    now: datetime,
    ttl: timedelta,
) -> Quote:
    """Price a tier or a pack for an account at ``now``.

    The charge due now covers the rest of the current billing period; the
    credits come in full at once and expire at the next monthly renewal.
    ``recurring_minor`` and ``monthly_credits_after`` are the account's totals
    after the purchase (add-on plus every pack), i.e. the billing change.
    """
    period = billing_period(anchor, cycle, now)
    price = item.price_minor(cycle)
    left, total = days_left(period, now), period.days
    due_now = prorate(price, left, total)
    unit = "month" if cycle is BillingCycle.MONTHLY else "year"
    span = f"prorated {left}/{total} days" if left < total else f"1 {unit}"
    return Quote(
        currency=currency,
        lines=[QuoteLine(description=f"{item.name} ({span})", amount_minor=due_now)],
        due_now_minor=due_now,
        recurring_minor=current_recurring_minor + price,
        interval=cycle.interval,
        next_charge_at=period.end,
        credits_now=item.credits_per_month,
        monthly_credits_after=current_monthly_credits + item.credits_per_month,
        credits_expire_at=credit_month(anchor, now).end,
        expires_at=now + ttl,
    )

"""Pricing and proration (DESIGN.md §1): integer minor units, rounded half up."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.calendar import billing_period, credit_month, days_left
from domain.catalogue import RecurringItem
from domain.enums import BillingCycle


class QuoteLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    amount_minor: int


class TierDirection(StrEnum):
    UPGRADE = "upgrade"  # at once: the prorated price difference and the credit difference
    DOWNGRADE = "downgrade"  # at the next renewal: nothing now, no refund


class TierChange(BaseModel):
    """A quote that moves the active add-on from one tier to another."""

    model_config = ConfigDict(frozen=True)

    from_tier: str
    to_tier: str
    direction: TierDirection


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
    # Set on a tier change only: what changes, and from when (null for a new item).
    tier_change: TierChange | None = None
    effective_at: datetime | None = None


def prorate(price_minor: int, days_left: int, days_in_period: int) -> int:
    """``round(price * days_left / days_in_period)``, half up, in integers only."""
    if not 0 <= days_left <= days_in_period or days_in_period <= 0:
        raise ValueError(f"days_left {days_left} outside period of {days_in_period} days")
    return (2 * price_minor * days_left + days_in_period) // (2 * days_in_period)


class AccountTerms(BaseModel):
    """What a quote is priced on besides the item: the account's billing, and the
    totals of the add-on it holds now (0 and 0 without one)."""

    model_config = ConfigDict(frozen=True)

    cycle: BillingCycle
    anchor: date
    currency: str
    monthly_credits: int
    recurring_minor: int


def build_quote(
    *, item: RecurringItem, account: AccountTerms, now: datetime, ttl: timedelta
) -> Quote:
    """Price a tier or a pack for an account at ``now``.

    The charge due now covers the rest of the current billing period; the
    credits come in full at once and expire at the next monthly renewal.
    ``recurring_minor`` and ``monthly_credits_after`` are the account's totals
    after the purchase (add-on plus every pack), i.e. the billing change.
    """
    cycle = account.cycle
    period = billing_period(account.anchor, cycle, now)
    price = item.price_minor(cycle)
    left, total = days_left(period, now), period.days
    due_now = prorate(price, left, total)
    unit = "month" if cycle is BillingCycle.MONTHLY else "year"
    span = f"prorated {left}/{total} days" if left < total else f"1 {unit}"
    return Quote(
        currency=account.currency,
        lines=[QuoteLine(description=f"{item.name} ({span})", amount_minor=due_now)],
        due_now_minor=due_now,
        recurring_minor=account.recurring_minor + price,
        interval=cycle.interval,
        next_charge_at=period.end,
        credits_now=item.credits_per_month,
        monthly_credits_after=account.monthly_credits + item.credits_per_month,
        credits_expire_at=credit_month(account.anchor, now).end,
        expires_at=now + ttl,
    )


def price_tier_change(
    *,
    current: RecurringItem,
    new: RecurringItem,
    account: AccountTerms,
    now: datetime,
    ttl: timedelta,
) -> Quote:
    """Price moving the active add-on from ``current`` (its tier line, at the price it
    was bought for) to ``new`` (DESIGN.md §1).

    More credits is an upgrade, at once: the price difference prorated to the rest
    of the billing period is due now, and the credit difference is granted now,
    expiring with the credit month. Fewer is a downgrade, at the next renewal that
    charges (the end of the paid period): nothing due, no credits, no refund.
    Either way the recurring totals change by the difference of the two tiers.
    """
    cycle = account.cycle
    period = billing_period(account.anchor, cycle, now)
    month = credit_month(account.anchor, now)
    old_price, new_price = current.price_minor(cycle), new.price_minor(cycle)
    credits_after = account.monthly_credits - current.credits_per_month + new.credits_per_month
    upgrade = new.credits_per_month > current.credits_per_month
    if upgrade:
        left, total = days_left(period, now), period.days
        due_now = prorate(max(new_price - old_price, 0), left, total)
        span = f"prorated {left}/{total} days" if left < total else f"1 {cycle.interval}"
        description = f"{new.name} instead of {current.name}, from today (difference, {span})"
        credits_now, effective_at = new.credits_per_month - current.credits_per_month, now
    else:
        # At the end of the paid period: an annual account keeps the year it paid for.
        due_now, credits_now, effective_at = 0, 0, period.end
        description = (
            f"{new.name} instead of {current.name}, from the renewal of "
            f"{period.end:%Y-%m-%d} (nothing due now, no refund)"
        )
    return Quote(
        currency=account.currency,
        lines=[QuoteLine(description=description, amount_minor=due_now)],
        due_now_minor=due_now,
        recurring_minor=account.recurring_minor - old_price + new_price,
        interval=cycle.interval,
        next_charge_at=period.end,
        credits_now=credits_now,
        monthly_credits_after=credits_after,
        credits_expire_at=month.end,
        expires_at=now + ttl,
        tier_change=TierChange(
            from_tier=current.id,
            to_tier=new.id,
            direction=TierDirection.UPGRADE if upgrade else TierDirection.DOWNGRADE,
        ),
        effective_at=effective_at,
    )

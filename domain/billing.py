"""What the add-on costs: its totals over the active lines, and one charge of a
billing period (DESIGN.md §1). Pure; the subscription workflow and the store use it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.calendar import Period, days_left
from domain.enums import BillingCycle
from domain.pricing import prorate


class AddonTotals(BaseModel):
    """The allotment and the recurring price of every active line, on both cycles."""

    model_config = ConfigDict(frozen=True)

    monthly_credits: int
    monthly_minor: int
    annual_minor: int

    def recurring_minor(self, cycle: BillingCycle) -> int:
        return self.monthly_minor if cycle is BillingCycle.MONTHLY else self.annual_minor


class BillingCharge(BaseModel):
    """One charge of the add-on: the billing period it pays for, priced at ``priced_at``.

    At the start of a billing period that is the full recurring price; a cycle
    change that starts between two anchor dates pays the rest of the new
    cycle's period, prorated like a purchase.
    """

    model_config = ConfigDict(frozen=True)

    cycle: BillingCycle
    period: Period
    priced_at: datetime

    def amount_minor(self, totals: AddonTotals) -> int:
        price = totals.recurring_minor(self.cycle)
        return prorate(price, days_left(self.period, self.priced_at), self.period.days)

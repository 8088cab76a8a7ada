"""What the add-on costs: its recurring lines, their totals at a moment, and one charge
of a billing period (DESIGN.md §1). Pure; the subscription workflow and the store use it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from domain.calendar import Period, billing_period, days_left
from domain.enums import BillingCycle, ItemType
from domain.pricing import prorate


class BilledLine(BaseModel):
    """One recurring line of the add-on (its tier or a credit pack) at the prices it
    was bought for. It counts from ``starts_at`` (a downgrade's tier, from the renewal)
    until ``ends_at`` (an ended pack, a downgraded tier); None: no bound."""

    model_config = ConfigDict(frozen=True)

    line_id: str
    kind: ItemType
    item_id: str
    credits_per_month: int
    monthly_minor: int
    annual_minor: int
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def counts_at(self, at: datetime) -> bool:
        started = self.starts_at is None or self.starts_at <= at
        return started and (self.ends_at is None or self.ends_at > at)

    def ended_by(self, at: datetime) -> bool:
        return self.ends_at is not None and self.ends_at <= at

    def price_minor(self, cycle: BillingCycle) -> int:
        return self.monthly_minor if cycle is BillingCycle.MONTHLY else self.annual_minor


class AddonTotals(BaseModel):
    """The allotment and the recurring price of the lines in force at one moment, on
    both cycles, and the lines themselves (with those that start or end later)."""

    model_config = ConfigDict(frozen=True)

    monthly_credits: int
    monthly_minor: int
    annual_minor: int
    # Empty in what was recorded before the lines travelled with their totals.
    lines: tuple[BilledLine, ...] = ()

    @classmethod
    def at(cls, lines: Iterable[BilledLine], at: datetime) -> AddonTotals:
        """The totals of ``lines`` in force at ``at``, keeping every line not ended by then."""
        kept = tuple(line for line in lines if not line.ended_by(at))
        counted = [line for line in kept if line.counts_at(at)]
        return cls(
            monthly_credits=sum(line.credits_per_month for line in counted),
            monthly_minor=sum(line.monthly_minor for line in counted),
            annual_minor=sum(line.annual_minor for line in counted),
            lines=kept,
        )

    def recurring_minor(self, cycle: BillingCycle) -> int:
        return self.monthly_minor if cycle is BillingCycle.MONTHLY else self.annual_minor

    def billed_lines(self) -> tuple[BilledLine, ...]:
        """The lines; for totals recorded without them, one unbounded line of the sums."""
        if self.lines:
            return self.lines
        whole = BilledLine(
            line_id="",
            kind=ItemType.ADDON,
            item_id="",
            credits_per_month=self.monthly_credits,
            monthly_minor=self.monthly_minor,
            annual_minor=self.annual_minor,
        )
        return (whole,)


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

    @classmethod
    def due_at(cls, anchor: date, cycle: BillingCycle, at: datetime) -> BillingCharge:
        """The charge of ``cycle``'s billing period that contains ``at``, priced then."""
        return cls(cycle=cycle, period=billing_period(anchor, cycle, at), priced_at=at)

    def amount_minor(self, totals: AddonTotals) -> int:
        price = totals.recurring_minor(self.cycle)
        return prorate(price, days_left(self.period, self.priced_at), self.period.days)

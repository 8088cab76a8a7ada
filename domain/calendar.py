"""Billing calendar: monthly credit periods and billing periods (DESIGN.md §1).

Monthly periods start at 00:00 UTC on the anchor's day of the month, or on the
month's last day when it has no such day (anchor 31 → Feb 28/29, Apr 30). An
annual billing year starts on the anchor's month and day, clamped the same way.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict

from domain.enums import BillingCycle


class Period(BaseModel):
    """A half-open span of business time: ``start <= t < end``."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.end.date() - self.start.date()).days

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def boundary(anchor: date, year: int, month: int) -> datetime:
    """00:00 UTC of the anchor's day in ``year``/``month``, clamped to the month's last day."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return datetime(year, month, day, tzinfo=UTC)


def credit_month(anchor: date, at: datetime) -> Period:
    """The monthly credit period that contains ``at``."""
    start = boundary(anchor, at.year, at.month)
    if at < start:
        return Period(start=boundary(anchor, at.year, at.month - 1), end=start)
    return Period(start=start, end=boundary(anchor, at.year, at.month + 1))


def billing_period(anchor: date, cycle: BillingCycle, at: datetime) -> Period:
    """The paid period of ``cycle`` that contains ``at``: a credit month, or an anchor year."""
    if cycle is BillingCycle.MONTHLY:
        return credit_month(anchor, at)
    start = boundary(anchor, at.year, anchor.month)
    if at < start:
        return Period(start=boundary(anchor, at.year - 1, anchor.month), end=start)
    return Period(start=start, end=boundary(anchor, at.year + 1, anchor.month))


def is_billing_boundary(anchor: date, cycle: BillingCycle, at: datetime) -> bool:
    """Whether a renewal at the monthly boundary ``at`` is also a charge date for ``cycle``."""
    return billing_period(anchor, cycle, at).start == at


def days_left(period: Period, at: datetime) -> int:
    """Whole UTC days from ``at``'s day up to, not including, the period end."""
    return (period.end.date() - at.date()).days


def as_utc(moment: datetime) -> datetime:
    """Normalise a timestamp to aware UTC (SQLite hands back naive datetimes)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

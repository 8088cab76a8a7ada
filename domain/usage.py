"""What an account's sends spent in one credit month, per day and per country (the
billing page's usage at a glance). Pure: the store hands in the month's debits.

A send's ledger reference names its country (``send_reference``); that is how a
debit is told apart by country without another column.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.calendar import Period

_SENT_TO = re.compile(r"SMS to ([A-Z]{2}):")


def send_reference(country: str, segments: int, recipients: int) -> str:
    """The ledger reference of a send, e.g. "SMS to BR: 1 segment(s) × 120 recipient(s)"."""
    return f"SMS to {country}: {segments} segment(s) × {recipients} recipient(s)"


def sent_to(reference: str) -> str | None:
    """The country a send's reference names; None for any other debit."""
    found = _SENT_TO.match(reference)
    return None if found is None else found.group(1)


@dataclass(frozen=True)
class Debit:
    at: datetime
    credits: int  # spent, positive
    reference: str


@dataclass(frozen=True)
class MonthUsage:
    month: Period
    per_day: tuple[tuple[date, int], ...]  # every day of the month, in order, 0 when none
    by_country: tuple[tuple[str, int], ...]  # most spent first; "" for debits of no country
    total: int

    @property
    def busiest_day(self) -> tuple[date, int] | None:
        if self.total == 0:
            return None
        return max(self.per_day, key=lambda day: day[1])


def month_usage(month: Period, debits: Iterable[Debit]) -> MonthUsage:
    """The credits spent in ``month`` by day (UTC) and by country."""
    per_day: Counter[date] = Counter()
    by_country: Counter[str] = Counter()
    for debit in debits:
        if not month.contains(debit.at):
            continue
        per_day[debit.at.date()] += debit.credits
        by_country[sent_to(debit.reference) or ""] += debit.credits
    first = month.start.date()
    days = tuple(first + timedelta(days=n) for n in range(month.days))
    return MonthUsage(
        month=month,
        per_day=tuple((day, per_day[day]) for day in days),
        by_country=tuple(sorted(by_country.items(), key=lambda item: (-item[1], item[0]))),
        total=sum(per_day.values()),
    )

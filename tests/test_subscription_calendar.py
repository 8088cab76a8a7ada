"""Anchor 31 across a leap and a common February: the calendar, then the workflow."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.calendar import boundary, credit_month
from domain.enums import GrantSource
from tests.subscription_support import advance_to, subscribed

# (year, month) → the renewal day of an anchor-31 account
ANCHOR_31 = [
    ((2028, 1), 31),
    ((2028, 2), 29),
    ((2028, 3), 31),
    ((2028, 4), 30),
    ((2029, 1), 31),
    ((2029, 2), 28),
    ((2029, 3), 31),
]


@pytest.mark.parametrize(("year_month", "day"), ANCHOR_31)
def test_anchor_31_renews_on_the_months_last_day_when_it_has_no_31st(year_month, day):
    year, month = year_month
    assert boundary(date(2027, 12, 31), year, month) == datetime(year, month, day, tzinfo=UTC)


def test_credit_month_spans_the_short_february():
    anchor = date(2027, 12, 31)
    month = credit_month(anchor, datetime(2028, 3, 15, tzinfo=UTC))
    assert (month.start, month.end) == (
        datetime(2028, 2, 29, tzinfo=UTC),
        datetime(2028, 3, 31, tzinfo=UTC),
    )


async def test_anchor_31_subscription_renews_feb_29_then_feb_28(time_skipping_env, sqlite_sessions):
    now = await time_skipping_env.get_current_time()
    leap = next(y for y in range(now.year + 1, now.year + 9) if y % 4 == 0)
    anchor = date(leap - 1, 12, 31)
    await advance_to(time_skipping_env, datetime(leap - 1, 12, 31, 12, tzinfo=UTC))
    months = 15  # through January, both Februaries and back to March 31
    async with subscribed(time_skipping_env, sqlite_sessions, "anchor31", anchor=anchor) as sub:
        await sub.after_boundary(months)
        renewals = [g.granted_at for g in sub.grants() if g.source == GrantSource.RENEWAL]
        assert len(renewals) == months
        assert datetime(leap, 2, 29, tzinfo=UTC) in renewals
        assert datetime(leap + 1, 2, 28, tzinfo=UTC) in renewals
        assert renewals[-1] == datetime(leap + 1, 3, 31, tzinfo=UTC)
        assert datetime(leap, 4, 30, tzinfo=UTC) in renewals
        assert [c.at for c in sub.charges()] == renewals

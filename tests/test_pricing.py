"""The billing calendar and proration, as pure table tests (no Temporal, no DB)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.calendar import billing_period, boundary, credit_month, days_left, is_billing_boundary
from domain.catalogue import RecurringItem
from domain.enums import BillingCycle
from domain.pricing import AccountTerms, build_quote, prorate

MONTHLY, ANNUAL = BillingCycle.MONTHLY, BillingCycle.ANNUAL


def at(y: int, m: int, d: int, hour: int = 0) -> datetime:
    return datetime(y, m, d, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("anchor", "moment", "start", "end"),
    [
        # Anchor 31 clamps to the last day of short months, then returns to the 31st.
        (date(2027, 1, 31), at(2028, 2, 10), at(2028, 1, 31), at(2028, 2, 29)),  # leap year
        (date(2027, 1, 31), at(2028, 2, 29), at(2028, 2, 29), at(2028, 3, 31)),
        (date(2027, 1, 31), at(2027, 2, 28), at(2027, 2, 28), at(2027, 3, 31)),  # common year
        (date(2027, 1, 31), at(2027, 4, 30, 12), at(2027, 4, 30), at(2027, 5, 31)),
        (date(2026, 11, 26), at(2026, 11, 26), at(2026, 11, 26), at(2026, 12, 26)),  # on the day
        (date(2026, 11, 26), at(2026, 12, 25, 23), at(2026, 11, 26), at(2026, 12, 26)),
        (date(2026, 11, 26), at(2027, 1, 3), at(2026, 12, 26), at(2027, 1, 26)),  # year wrap
        (date(2026, 1, 30), at(2026, 3, 1), at(2026, 2, 28), at(2026, 3, 30)),
    ],
)
def test_credit_month(anchor, moment, start, end):
    period = credit_month(anchor, moment)
    assert (period.start, period.end) == (start, end)
    assert period.contains(moment)


def test_anchor_31_renewals_across_leap_and_common_february():
    anchor = date(2027, 1, 31)
    renewals = [boundary(anchor, 2027, m) for m in range(1, 16)]
    assert [r.date() for r in renewals[:5]] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]
    assert boundary(anchor, 2028, 2).date() == date(2028, 2, 29)
    assert boundary(anchor, 2028, 3).date() == date(2028, 3, 31)


@pytest.mark.parametrize(
    ("anchor", "moment", "start", "end"),
    [
        (date(2026, 3, 15), at(2026, 11, 26), at(2026, 3, 15), at(2027, 3, 15)),
        (date(2026, 3, 15), at(2027, 3, 14), at(2026, 3, 15), at(2027, 3, 15)),
        (date(2026, 3, 15), at(2027, 3, 15), at(2027, 3, 15), at(2028, 3, 15)),
        (date(2028, 2, 29), at(2029, 3, 1), at(2029, 2, 28), at(2030, 2, 28)),  # leap anchor
    ],
)
def test_annual_billing_period(anchor, moment, start, end):
    period = billing_period(anchor, ANNUAL, moment)
    assert (period.start, period.end) == (start, end)


def test_billing_boundaries_monthly_every_month_annual_every_twelfth():
    anchor = date(2026, 11, 26)
    months = [boundary(anchor, 2026, 11 + n) for n in range(25)]
    assert all(is_billing_boundary(anchor, MONTHLY, m) for m in months)
    annual = [n for n, m in enumerate(months) if is_billing_boundary(anchor, ANNUAL, m)]
    assert annual == [0, 12, 24]


@pytest.mark.parametrize(
    ("price", "left", "total", "expected"),
    [
        (1800, 30, 30, 1800),  # bought on the boundary day: the whole period
        (1800, 1, 30, 60),  # the last day of the period
        (1800, 5, 30, 300),  # API.md's example
        (1000, 1, 3, 333),  # 333.33 rounds down
        (1000, 2, 3, 667),  # 666.67 rounds up
        (1, 1, 2, 1),  # exactly half rounds up
        (3, 1, 2, 2),  # 1.5 → 2
        (5, 1, 2, 3),  # 2.5 → 3 (half up, not banker's)
        (21600, 100, 365, 5918),  # annual: 5917.81
        (21600, 1, 366, 59),  # leap year: 59.016
    ],
)
def test_prorate_rounds_half_up(price, left, total, expected):
    assert prorate(price, left, total) == expected


def test_prorate_rejects_days_outside_the_period():
    with pytest.raises(ValueError):
        prorate(100, 31, 30)


def test_days_left_counts_today_up_to_the_period_end():
    period = credit_month(date(2026, 11, 26), at(2026, 12, 20, 23))
    assert days_left(period, at(2026, 12, 20, 23)) == 6
    assert days_left(period, at(2026, 12, 25, 23)) == 1
    assert days_left(period, at(2026, 11, 26)) == period.days == 30


TIER = RecurringItem(
    id="sms-1000",
    name="SMS add-on, 1,000 credits/month",
    credits_per_month=1000,
    monthly_price_minor=1800,
)


@pytest.mark.parametrize(
    ("cycle", "anchor", "now", "due", "recurring", "next_charge"),
    [
        (MONTHLY, date(2026, 11, 26), at(2026, 12, 21, 9), 300, 1800, at(2026, 12, 26)),
        (MONTHLY, date(2027, 1, 31), at(2028, 2, 29), 1800, 1800, at(2028, 3, 31)),  # boundary
        (MONTHLY, date(2027, 1, 31), at(2028, 3, 30), 58, 1800, at(2028, 3, 31)),  # last day: 58.06
        (ANNUAL, date(2026, 1, 1), at(2026, 12, 31), 59, 21600, at(2027, 1, 1)),
        (ANNUAL, date(2026, 11, 26), at(2026, 11, 26), 21600, 21600, at(2027, 11, 26)),
    ],
)
def test_quote(cycle, anchor, now, due, recurring, next_charge):
    account = AccountTerms(
        cycle=cycle, anchor=anchor, currency="USD", monthly_credits=0, recurring_minor=0
    )
    quote = build_quote(item=TIER, account=account, now=now, ttl=timedelta(minutes=30))
    assert quote.due_now_minor == due == quote.lines[0].amount_minor
    assert quote.recurring_minor == recurring
    assert quote.next_charge_at == next_charge
    assert quote.credits_now == 1000
    assert quote.credits_expire_at == credit_month(anchor, now).end
    assert quote.expires_at == now + timedelta(minutes=30)
    assert quote.interval == cycle.interval


def test_a_pack_quote_shows_the_totals_after_it():
    account = AccountTerms(
        cycle=MONTHLY,
        anchor=date(2026, 11, 26),
        currency="USD",
        monthly_credits=1000,
        recurring_minor=1800,
    )
    quote = build_quote(item=TIER, account=account, now=at(2026, 11, 26), ttl=timedelta(minutes=30))
    assert (quote.monthly_credits_after, quote.recurring_minor) == (2000, 3600)
    assert "(1 month)" in quote.lines[0].description

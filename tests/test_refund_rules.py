"""The pure refund rules (domain/refunds.py): the remainder, the revoke rule, the
unused part of a paid period, and how a refund is spread over captures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.calendar import Period
from domain.errors import DomainError, ErrorCode
from domain.refunds import (
    Capture,
    allocate,
    check_refund,
    credits_to_revoke,
    prorated_unused_minor,
    refundable_minor,
    unused_days,
)

NOVEMBER = Period(start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 12, 1, tzinfo=UTC))


def test_a_capture_holds_what_was_not_refunded():
    assert refundable_minor(1800, 0) == 1800
    assert refundable_minor(1800, 500) == 1300
    assert refundable_minor(1800, 1800) == 0
    check_refund(1300, 1800, 500)  # exactly the rest is fine
    for amount, refunded in ((1301, 500), (1, 1800), (0, 0)):
        with pytest.raises(DomainError) as refused:
            check_refund(amount, 1800, refunded)
        assert refused.value.code is ErrorCode.CONFLICT


@pytest.mark.parametrize(
    ("remaining", "refund", "refunded_after", "revoked"),
    [
        (1000, 900, 900, 500),  # half the money: half the credits (1000 * 900 // 1800)
        (100, 900, 900, 100),  # never more than the grant still holds
        (1000, 1, 1, 0),  # a cent buys back less than a credit: rounded down
        (300, 900, 1800, 300),  # the capture is refunded in full: all that remains
        (0, 1800, 1800, 0),  # everything spent: nothing to take, never below zero
    ],
)
def test_revoke_rule(remaining: int, refund: int, refunded_after: int, revoked: int):
    assert (
        credits_to_revoke(
            granted=1000,
            remaining=remaining,
            captured_minor=1800,
            refund_minor=refund,
            refunded_after_minor=refunded_after,
        )
        == revoked
    )


def test_today_counts_as_used():
    assert unused_days(NOVEMBER, datetime(2026, 11, 1, 0, tzinfo=UTC)) == 29
    assert unused_days(NOVEMBER, datetime(2026, 11, 11, 15, tzinfo=UTC)) == 19
    assert unused_days(NOVEMBER, datetime(2026, 11, 30, 23, tzinfo=UTC)) == 0
    assert unused_days(NOVEMBER, datetime(2026, 12, 1, tzinfo=UTC)) == 0


def test_prorated_unused_part_rounds_half_up():
    assert prorated_unused_minor(1800, NOVEMBER, datetime(2026, 11, 11, tzinfo=UTC)) == 1140
    assert prorated_unused_minor(1000, NOVEMBER, datetime(2026, 11, 30, tzinfo=UTC)) == 0
    # 1000 * 1 / 30 = 33.33 -> 33
    assert prorated_unused_minor(1000, NOVEMBER, datetime(2026, 11, 29, tzinfo=UTC)) == 33


def test_a_refund_is_spread_over_captures_newest_first():
    captures = [Capture("pack", 300), Capture("addon", 1800)]
    assert allocate(1000, captures) == [("pack", 300), ("addon", 700)]
    assert allocate(200, captures) == [("pack", 200)]
    assert allocate(5000, captures) == [("pack", 300), ("addon", 1800)]  # capped
    assert allocate(100, [Capture("spent", 0), Capture("addon", 50)]) == [("addon", 50)]

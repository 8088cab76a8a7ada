"""Operator refunds (API.md "Operators"): how much of a capture may still be refunded,
how many of the credits it bought a refund takes back, and what ending an add-on now
gives back of its paid period. Pure: the store and the workflows pass the numbers in.

The rules, as docs/runbook.md states them:

- a capture may be refunded in parts, never beyond what it captured less what was
  refunded (or is being refunded) already;
- revoking takes back the credits bought in proportion to the money returned,
  rounded down, and everything the purchase's grant still holds once the capture is
  refunded in full; never more than the grant still holds (spent credits stay spent,
  the balance never goes below zero);
- ending an add-on now refunds the unused whole days of the paid billing period
  after today (today counts as used) at the recurring price, from the captures
  made in that period, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.calendar import Period, days_left
from domain.errors import DomainError, ErrorCode
from domain.pricing import prorate


def refundable_minor(captured_minor: int, refunded_minor: int) -> int:
    """What a capture still holds: captured less every refund made or under way."""
    return max(0, captured_minor - refunded_minor)


def check_refund(amount_minor: int, captured_minor: int, refunded_minor: int) -> None:
    """Refuse (409 ``conflict``) a refund beyond what the capture still holds."""
    left = refundable_minor(captured_minor, refunded_minor)
    if amount_minor <= 0 or amount_minor > left:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"At most {left} (minor units) of this payment can still be refunded; "
            f"{amount_minor} was asked.",
        )


def credits_to_revoke(
    *,
    granted: int,
    remaining: int,
    captured_minor: int,
    refund_minor: int,
    refunded_after_minor: int,
) -> int:
    """Credits a refund of ``refund_minor`` takes back from the grant the capture
    bought (``granted`` credits, ``remaining`` still held), ``refunded_after_minor``
    being all refunded once this refund is counted."""
    if remaining <= 0 or captured_minor <= 0:
        return 0
    if refunded_after_minor >= captured_minor:
        return remaining
    share = granted * refund_minor // captured_minor
    return max(0, min(remaining, share))


def unused_days(period: Period, now: datetime) -> int:
    """Whole days of ``period`` after ``now``'s day; 0 once it has ended."""
    if now >= period.end:
        return 0
    return max(0, days_left(period, now) - 1)


def prorated_unused_minor(recurring_minor: int, period: Period, now: datetime) -> int:
    """The unused part of a paid period at the recurring price, rounded half up."""
    if period.days <= 0:
        return 0
    return prorate(recurring_minor, unused_days(period, now), period.days)


@dataclass(frozen=True)
class Capture:
    payment_id: str
    refundable_minor: int


def allocate(amount_minor: int, captures: list[Capture]) -> list[tuple[str, int]]:
    """Spread a refund over captures (given newest first), each at most what it still
    holds; the total is capped by what they hold together."""
    parts: list[tuple[str, int]] = []
    owed = amount_minor
    for capture in captures:
        if owed <= 0:
            break
        take = min(owed, capture.refundable_minor)
        if take > 0:
            parts.append((capture.payment_id, take))
            owed -= take
    return parts

"""How a renewal waits while the payment provider refuses its charge itself: when the
refusal is taken as for good, and the pause before each next try (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from boundary.options import OUTAGE_FIRST_PAUSE, OUTAGE_LONGEST_PAUSE
from domain.provider_refusals import REFUSALS_FOR_GOOD, ProviderRefusals
from workflows.outages import Pauses
from workflows.renewal_charge import waiting_note

T0 = datetime(2026, 12, 26, tzinfo=UTC)


def refused(times: int) -> ProviderRefusals:
    refusals = ProviderRefusals()
    for n in range(times):
        refusals = refusals.after_send(refused=True, at=T0 + timedelta(minutes=20 * n))
    return refusals


def test_refusals_in_a_row_are_for_good_from_the_bound_on():
    assert REFUSALS_FOR_GOOD > 1  # one refusal may be a deploy caught between two keys
    assert [refused(n).for_good for n in range(REFUSALS_FOR_GOOD + 2)] == [
        *([False] * REFUSALS_FOR_GOOD),
        True,
        True,
    ]
    assert refused(REFUSALS_FOR_GOOD).count == REFUSALS_FOR_GOOD
    assert refused(REFUSALS_FOR_GOOD).since == T0  # the first of the row


def test_a_send_that_got_no_answer_ends_the_row():
    """No answer at all is the provider out, not refusing: the count starts again."""
    blocked = refused(REFUSALS_FOR_GOOD)
    later = T0 + timedelta(hours=3)
    cleared = blocked.after_send(refused=False, at=later)
    assert (cleared.count, cleared.since, cleared.for_good) == (0, None, False)
    again = cleared.after_send(refused=True, at=later)
    assert (again.count, again.since, again.for_good) == (1, later, False)


def test_the_pauses_double_and_go_to_the_longest_once_refused_for_good():
    pauses, taken = Pauses(), []
    refusals = ProviderRefusals()
    for n in range(REFUSALS_FOR_GOOD + 2):
        refusals = refusals.after_send(refused=True, at=T0 + timedelta(minutes=n))
        taken.append(pauses.next(longest=refusals.for_good))
    doubling = [OUTAGE_FIRST_PAUSE * 2**n for n in range(REFUSALS_FOR_GOOD - 1)]
    assert taken == [*doubling, *([OUTAGE_LONGEST_PAUSE] * 3)]
    assert max(doubling) < OUTAGE_LONGEST_PAUSE  # the bound is reached before the doubling


def test_without_refusals_the_pauses_double_up_to_the_longest():
    pauses = Pauses()
    taken = [pauses.next() for _ in range(12)]
    assert taken[:3] == [OUTAGE_FIRST_PAUSE, 2 * OUTAGE_FIRST_PAUSE, 4 * OUTAGE_FIRST_PAUSE]
    assert taken[-1] == OUTAGE_LONGEST_PAUSE and max(taken) == OUTAGE_LONGEST_PAUSE
    assert taken == sorted(taken)


def test_the_details_say_why_the_charge_waits():
    now = T0 + timedelta(hours=5)
    assert waiting_note(ProviderRefusals(), now) == (
        "payment outcome unknown since 2026-12-26 05:00 UTC, left to the janitor"
    )
    once = waiting_note(refused(1), now)
    assert once.startswith("the payment provider refused the charge itself, not the card")
    assert "(once, since 2026-12-26 00:00 UTC)" in once
    blocked = waiting_note(refused(REFUSALS_FOR_GOOD), now)
    assert blocked.startswith("blocked: the payment provider refused the charge itself")
    assert f"({REFUSALS_FOR_GOOD} times in a row, since 2026-12-26 00:00 UTC)" in blocked
    assert "Renewal charge refused by the provider" in blocked  # the runbook's section

"""Tier changes as pure table tests: their price (domain.pricing.price_tier_change),
who may change (domain.purchase / domain.tier_change) and resuming (domain.addon)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.addon import AddonState, AddonTotals
from domain.calendar import Period
from domain.catalogue import RecurringItem
from domain.enums import AddonStatus, BillingCycle, ItemType
from domain.errors import ErrorCode
from domain.pricing import AccountTerms, Quote, TierChange, TierDirection, price_tier_change
from domain.purchase import eligibility_refusal
from domain.tier_change import TierSwitch, tier_change_refusal, tier_switch

TTL = timedelta(minutes=30)
ANCHOR = date(2026, 11, 26)  # periods of 30 days: 2026-11-26 .. 2026-12-26
SMALL = RecurringItem(id="s", name="Small", credits_per_month=500, monthly_price_minor=1000)
MEDIUM = RecurringItem(id="m", name="Medium", credits_per_month=1000, monthly_price_minor=1800)
LARGE = RecurringItem(
    id="l",
    name="Large",
    credits_per_month=10000,
    monthly_price_minor=14000,
    annual_price_minor=150000,
)


def at(y: int, m: int, d: int, hour: int = 0) -> datetime:
    return datetime(y, m, d, hour, tzinfo=UTC)


def change(
    current: RecurringItem,
    new: RecurringItem,
    now: datetime,
    cycle: BillingCycle = BillingCycle.MONTHLY,
    monthly: int = 1000,
    recurring: int = 1800,
) -> Quote:
    account = AccountTerms(
        cycle=cycle,
        anchor=ANCHOR,
        currency="USD",
        monthly_credits=monthly,
        recurring_minor=recurring,
    )
    return price_tier_change(current=current, new=new, account=account, now=now, ttl=TTL)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (at(2026, 11, 26), 12200),  # the whole period: 14000 - 1800
        (at(2026, 12, 11, 15), 6100),  # 15/30 days (today counts): exactly half
        (at(2026, 12, 12), 5693),  # 14/30: 12200 × 14 / 30 = 5693.33 → 5693
        (at(2026, 12, 25, 23), 407),  # the last day: 12200 / 30 = 406.67 → 407
    ],
)
def test_an_upgrade_is_the_prorated_price_difference_now(now, due):
    quote = change(MEDIUM, LARGE, now, monthly=1500, recurring=2700)  # plus a pack
    assert quote.due_now_minor == due
    assert [line.amount_minor for line in quote.lines] == [due]
    assert quote.credits_now == 9000
    assert (quote.monthly_credits_after, quote.recurring_minor) == (10500, 14900)
    assert quote.tier_change == TierChange(from_tier="m", to_tier="l", direction="upgrade")
    assert quote.effective_at == now
    assert quote.credits_expire_at == quote.next_charge_at == at(2026, 12, 26)


def test_an_annual_upgrade_prorates_the_rest_of_the_year_at_annual_prices():
    now = at(2027, 5, 26)  # 2026-11-26 .. 2027-11-26 is 365 days; 184 left
    quote = change(MEDIUM, LARGE, now, cycle=BillingCycle.ANNUAL, recurring=21600)
    difference = 150000 - 12 * 1800
    assert quote.due_now_minor == (2 * difference * 184 + 365) // (2 * 365)
    assert quote.recurring_minor == 150000
    assert quote.next_charge_at == at(2027, 11, 26)
    assert quote.credits_expire_at == at(2027, 6, 26)  # credits still renew monthly


def test_a_downgrade_is_free_and_waits_for_the_renewal():
    now = at(2026, 12, 11, 15)
    quote = change(MEDIUM, SMALL, now)
    assert (quote.due_now_minor, quote.credits_now) == (0, 0)
    assert [line.amount_minor for line in quote.lines] == [0]
    assert quote.effective_at == at(2026, 12, 26)
    assert (quote.monthly_credits_after, quote.recurring_minor) == (500, 1000)
    assert quote.tier_change is not None
    assert quote.tier_change.direction is TierDirection.DOWNGRADE
    assert "from the renewal of 2026-12-26" in quote.lines[0].description


def test_an_annual_downgrade_waits_for_the_end_of_the_paid_year():
    quote = change(LARGE, MEDIUM, at(2027, 5, 26), cycle=BillingCycle.ANNUAL, recurring=150000)
    assert (quote.due_now_minor, quote.credits_now) == (0, 0)
    assert quote.effective_at == quote.next_charge_at == at(2027, 11, 26)
    assert quote.recurring_minor == 12 * 1800


def test_the_old_tier_is_priced_as_bought_not_as_listed_today():
    bought = MEDIUM.model_copy(update={"monthly_price_minor": 1500})  # an older, lower price
    quote = change(bought, LARGE, at(2026, 11, 26), recurring=1500)
    assert quote.due_now_minor == 14000 - 1500
    assert quote.recurring_minor == 14000


@pytest.mark.parametrize(
    ("status", "tier", "refused"),
    [
        (AddonStatus.ACTIVE, "l", None),  # another tier: a change
        (AddonStatus.ACTIVE, "m", ErrorCode.ADDON_ALREADY_ACTIVE),
        (AddonStatus.CANCELLING, "l", ErrorCode.ADDON_NOT_ACTIVE),
        (AddonStatus.PAST_DUE, "l", ErrorCode.ADDON_NOT_ACTIVE),
        (AddonStatus.CANCELLING, "m", ErrorCode.ADDON_ALREADY_ACTIVE),
        (AddonStatus.CANCELLED, "m", None),  # bought anew
    ],
)
def test_who_may_change_tier(status, tier, refused):
    found = eligibility_refusal(
        item_type=ItemType.ADDON,
        plan_eligible=True,
        addon_status=status,
        tier=tier,
        current_tier="m" if status is not AddonStatus.CANCELLED else None,
    )
    assert (found[0] if found else None) == refused


UPGRADE = TierChange(from_tier="m", to_tier="l", direction="upgrade")


@pytest.mark.parametrize(
    ("status", "in_flight", "current", "refused"),
    [
        (AddonStatus.ACTIVE, False, "m", None),
        (AddonStatus.ACTIVE, True, "m", ErrorCode.CONFLICT),  # another change holds the claim
        (AddonStatus.ACTIVE, False, "s", ErrorCode.CONFLICT),  # moved since the quote
        (AddonStatus.ACTIVE, False, "l", ErrorCode.ADDON_ALREADY_ACTIVE),
        (AddonStatus.CANCELLING, False, "m", ErrorCode.ADDON_NOT_ACTIVE),
        (AddonStatus.CANCELLED, False, None, ErrorCode.ADDON_NOT_ACTIVE),
    ],
)
def test_a_claimed_change_needs_the_quoted_tier_and_no_other_claim(
    status, in_flight, current, refused
):
    found = tier_change_refusal(
        addon_status=status,
        addon_purchase_in_flight=in_flight,
        change=UPGRADE,
        current_tier=current,
    )
    assert (found[0] if found else None) == refused


def state(status: AddonStatus, ends_at: datetime | None) -> AddonState:
    return AddonState(
        account_id="a",
        purchase_id="p",
        status=status,
        anchor=ANCHOR,
        currency="USD",
        billing_cycle=BillingCycle.MONTHLY,
        totals=AddonTotals(monthly_credits=1000, monthly_minor=1800, annual_minor=21600),
        month=Period(start=at(2026, 11, 26), end=at(2026, 12, 26)),
        paid_through=at(2026, 12, 26),
        ends_at=ends_at,
        dunning_retry_days=[1, 3, 7],
    )


def test_resume_restores_a_cancelling_addon_as_it_was():
    before = state(AddonStatus.ACTIVE, None)
    cancelling = before.model_copy(deep=True)
    assert cancelling.schedule_end(at(2026, 12, 1))
    assert cancelling.resume(at(2026, 12, 2))
    assert cancelling == before
    assert cancelling.next_charge_at() == at(2026, 12, 26)
    assert not cancelling.resume(at(2026, 12, 3))  # not cancelling any more


def test_resume_is_refused_once_the_end_has_come():
    ending = state(AddonStatus.CANCELLING, at(2026, 12, 26))
    assert not ending.resume(at(2026, 12, 26))
    assert ending.status is AddonStatus.CANCELLING


def test_an_upgrade_moves_the_tier_lines_at_once_a_downgrade_at_the_renewal():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    renewal = datetime(2026, 12, 26, tzinfo=UTC)
    assert tier_switch(TierDirection.UPGRADE, now, renewal) == TierSwitch(
        held_ends_at=now, held_still_counts=False, new_starts_at=None, tier_moves_now=True
    )
    assert tier_switch(TierDirection.DOWNGRADE, now, renewal) == TierSwitch(
        held_ends_at=renewal, held_still_counts=True, new_starts_at=renewal, tier_moves_now=False
    )

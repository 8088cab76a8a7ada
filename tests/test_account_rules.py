"""Rules of an account's settings and registration as pure table tests: auto top-up's
terms (domain.auto_top_up), the billing anchor's and the currency's locks
(domain.addon) and when a registration takes corrected details (domain.registration)."""

from __future__ import annotations

import pytest

from domain.addon import anchor_locked, currency_locked
from domain.auto_top_up import TopUpTerms, top_up_refusal, top_up_terms
from domain.catalogue import RecurringItem
from domain.enums import AddonStatus, Currency, RegistrationStatus
from domain.errors import ErrorCode
from domain.registration import resubmit_refusal

PACK = RecurringItem(
    id="pack-500",
    name="500 more",
    credits_per_month=500,
    monthly_price_minor=900,
    annual_price_minor=9000,
)


@pytest.mark.parametrize("status", list(AddonStatus))
def test_auto_top_up_needs_an_active_addon(status: AddonStatus) -> None:
    refused = top_up_refusal(status)
    if status is AddonStatus.ACTIVE:
        assert refused is None
    else:
        assert refused is not None and refused[0] is ErrorCode.ADDON_NOT_ACTIVE


def test_a_top_up_is_the_packs_credits_at_its_monthly_price_whatever_the_cycle() -> None:
    assert top_up_terms(PACK, "BRL") == TopUpTerms(
        pack="pack-500", credits=500, price_minor=900, currency="BRL"
    )


@pytest.mark.parametrize(
    ("status", "locked"),
    [
        (AddonStatus.INACTIVE, False),
        (AddonStatus.ACTIVE, True),
        (AddonStatus.PAST_DUE, True),
        (AddonStatus.CANCELLING, True),
        (AddonStatus.SUSPENDED, False),
        (AddonStatus.CANCELLED, False),
    ],
)
def test_the_anchor_is_locked_while_the_addon_bills_on_it(status: AddonStatus, locked: bool):
    assert anchor_locked(status) is locked


@pytest.mark.parametrize(
    ("current", "wanted", "has_bought", "locked"),
    [
        (Currency.USD, Currency.BRL, False, False),
        (Currency.USD, Currency.BRL, True, True),
        (Currency.BRL, Currency.USD, True, True),
        (Currency.BRL, Currency.BRL, True, False),
        (Currency.USD, Currency.USD, False, False),
    ],
)
def test_the_currency_is_fixed_once_the_account_has_bought_anything(
    current: Currency, wanted: Currency, has_bought: bool, locked: bool
) -> None:
    assert currency_locked(current, wanted, has_bought) is locked


@pytest.mark.parametrize(
    ("status", "waiting", "taken"),
    [
        (RegistrationStatus.FAILED, True, True),
        (RegistrationStatus.TIMED_OUT, True, True),
        # The run stopped waiting for corrections (closing, or one already handed in).
        (RegistrationStatus.FAILED, False, False),
        (RegistrationStatus.BRAND_PENDING, True, False),
        (RegistrationStatus.CAMPAIGN_PENDING, True, False),
        (RegistrationStatus.APPROVED, True, False),
        (RegistrationStatus.NONE, True, False),  # a first submission, not a correction
    ],
)
def test_only_a_failed_or_timed_out_registration_takes_corrections(
    status: RegistrationStatus, waiting: bool, taken: bool
) -> None:
    refused = resubmit_refusal(status, taking_corrections=waiting)
    assert (refused is None) is taken
    if refused is not None:
        assert status.value in refused

"""The add-on state's pure rules: what continue-as-new carries, and how it reads."""

from __future__ import annotations

from datetime import UTC, date, datetime

from temporalio.contrib.pydantic import pydantic_data_converter

from contracts.subscription import SubscriptionStart
from domain.addon import AddonState, AddonTotals, BillingCharge, ChargeInFlight, Dunning
from domain.calendar import Period, credit_month
from domain.enums import AddonStatus, BillingCycle
from domain.money import format_money

ANCHOR = date(2026, 11, 26)
NOW = datetime(2026, 12, 3, tzinfo=UTC)
TOTALS = AddonTotals(monthly_credits=1500, monthly_minor=2700, annual_minor=32400)


def state(**changes: object) -> AddonState:
    month = credit_month(ANCHOR, NOW)
    base = AddonState(
        account_id="acme",
        purchase_id="pur-1",
        status=AddonStatus.ACTIVE,
        anchor=ANCHOR,
        currency="USD",
        billing_cycle=BillingCycle.MONTHLY,
        totals=TOTALS,
        month=month,
        paid_through=month.end,
        dunning_retry_days=[1, 3, 7],
    )
    return base.model_copy(update=changes)


def test_continue_as_new_input_carries_every_field():
    month = credit_month(ANCHOR, NOW)
    charge = BillingCharge(cycle=BillingCycle.ANNUAL, period=month, priced_at=month.start)
    carried = state(
        status=AddonStatus.PAST_DUE,
        pending_billing_cycle=BillingCycle.ANNUAL,
        ends_at=month.end,
        dunning=Dunning(month=month, charge=charge, failed_at=NOW, attempts=3, retries_done=2),
        retry_requested=True,
        dunning_retry_days=[2, 5],
        renewals_this_run=12,
        charging=ChargeInFlight(month=month, charge=charge, amount_minor=32400),
    )
    defaults = {
        name: f.default for name, f in AddonState.model_fields.items() if not f.is_required()
    }
    assert all(getattr(carried, name) != value for name, value in defaults.items())

    start = SubscriptionStart(
        account_id="acme", purchase_id="pur-1", carried=carried.for_next_run()
    )
    converter = pydantic_data_converter.payload_converter
    (decoded,) = converter.from_payloads(converter.to_payloads([start]), [SubscriptionStart])
    assert decoded.carried == carried.model_copy(update={"renewals_this_run": 0})


def test_details_line_reads_like_the_billing_page():
    assert state().details() == "renews 2026-12-26, charges $27.00"
    annual = state(
        billing_cycle=BillingCycle.ANNUAL, paid_through=datetime(2027, 11, 26, tzinfo=UTC)
    )
    assert annual.details() == "renews 2026-12-26, charges $324.00 on 2027-11-26"
    cancelling = state()
    assert cancelling.schedule_end(NOW)
    assert cancelling.details() == "cancelling: ends 2026-12-26, no further charges"
    assert not cancelling.schedule_end(NOW)  # idempotent


def test_monthly_to_annual_between_anchor_dates_pays_the_rest_of_the_year():
    current = state()
    assert current.change_billing_cycle(BillingCycle.ANNUAL)
    charge = current.charge_due(current.paid_through)
    assert charge is not None
    assert charge.period == Period(
        start=datetime(2026, 11, 26, tzinfo=UTC), end=datetime(2027, 11, 26, tzinfo=UTC)
    )
    assert charge.amount_minor(TOTALS) == round(32400 * 335 / 365)
    current.renewed(credit_month(ANCHOR, current.paid_through), paid=charge)
    assert (current.billing_cycle, current.pending_billing_cycle) == (BillingCycle.ANNUAL, None)


def test_money_is_shown_with_its_currency():
    assert format_money(1800, "USD") == "$18.00"
    assert format_money(5, "SEK") == "SEK 0.05"
    assert format_money(-250, "EUR") == "-€2.50"

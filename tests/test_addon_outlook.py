"""The add-on's outlook, the one source of every figure shown of it: its pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.addon_outlook import AddonRow, ChangeKind, addon_outlook, renewal_totals
from domain.billing import AddonTotals, BilledLine, BillingCharge
from domain.calendar import credit_month
from domain.enums import AddonStatus, BillingCycle, ItemType

ANCHOR = date(2026, 11, 26)
MONTH = credit_month(ANCHOR, datetime(2026, 12, 3, tzinfo=UTC))
RENEWAL = MONTH.end
TIER = BilledLine(
    line_id="pur_tier",
    kind=ItemType.ADDON,
    item_id="sms-1000",
    credits_per_month=1000,
    monthly_minor=1800,
    annual_minor=21600,
)
PACK = BilledLine(
    line_id="pur_pack",
    kind=ItemType.CREDIT_PACK,
    item_id="pack-500",
    credits_per_month=500,
    monthly_minor=900,
    annual_minor=10800,
)


def row(**changes: object) -> AddonRow:
    base = AddonRow(
        account_id="acme",
        status=AddonStatus.ACTIVE,
        billing_cycle=BillingCycle.MONTHLY,
        month=MONTH,
        next_charge_at=RENEWAL,
        next_charge=BillingCharge.due_at(ANCHOR, BillingCycle.MONTHLY, RENEWAL),
        ends_at=None,
    )
    return base.model_copy(update=changes)


def test_a_tier_and_a_pack_renew_as_they_are():
    outlook = addon_outlook(row(), "USD", [TIER, PACK])
    assert outlook.next_charge is not None
    assert (outlook.next_charge.amount_minor, outlook.next_charge.at) == (2700, RENEWAL)
    assert (outlook.monthly_credits, outlook.monthly_credits_after_renewal) == (1500, 1500)
    assert outlook.pending == ()
    assert outlook.renews_at == RENEWAL


def test_an_ended_pack_counts_until_the_renewal_and_is_not_charged_then():
    ending = PACK.model_copy(update={"ends_at": RENEWAL})
    outlook = addon_outlook(row(), "USD", [TIER, ending])
    assert outlook.next_charge is not None and outlook.next_charge.amount_minor == 1800
    assert (outlook.monthly_credits, outlook.monthly_credits_after_renewal) == (1500, 1000)
    (change,) = outlook.pending
    assert (change.kind, change.at, change.line_id) == (ChangeKind.PACK_ENDS, RENEWAL, "pur_pack")


def test_a_downgrade_starts_at_the_renewal():
    old = TIER.model_copy(update={"item_id": "sms-2500", "credits_per_month": 2500,
                                  "monthly_minor": 4000, "ends_at": RENEWAL})  # fmt: skip
    new = TIER.model_copy(update={"line_id": "pur_down", "starts_at": RENEWAL})
    outlook = addon_outlook(row(), "USD", [old, new])
    assert outlook.next_charge is not None and outlook.next_charge.amount_minor == 1800
    assert (outlook.monthly_credits, outlook.monthly_credits_after_renewal) == (2500, 1000)
    (change,) = outlook.pending
    assert (change.kind, change.item_id, change.credits_per_month) == (
        ChangeKind.TIER_STARTS,
        "sms-1000",
        1000,
    )
    # A tier change priced now replaces the tier in force and the waiting change.
    totals = renewal_totals([old, new, PACK], RENEWAL, replaced_tier=old)
    assert (totals.monthly_credits, totals.monthly_minor) == (3000, 4900)
    assert renewal_totals([old, new, PACK], RENEWAL).monthly_minor == 2700


def test_cancelling_ends_at_the_renewal_without_a_charge():
    outlook = addon_outlook(row(status=AddonStatus.CANCELLING, next_charge_at=None,
                                next_charge=None, ends_at=RENEWAL), "USD", [TIER])  # fmt: skip
    assert outlook.next_charge is None
    assert outlook.monthly_credits_after_renewal is None
    assert [c.kind for c in outlook.pending] == [ChangeKind.ADDON_ENDS]


def test_an_ended_add_on_has_no_figures():
    outlook = addon_outlook(row(status=AddonStatus.CANCELLED, ends_at=MONTH.start), "USD", [TIER])
    assert (outlook.next_charge, outlook.lines, outlook.monthly_credits) == (None, (), 0)


def test_a_cycle_change_between_anchor_dates_is_prorated_as_the_charge_is():
    charge = BillingCharge.due_at(ANCHOR, BillingCycle.ANNUAL, RENEWAL)
    outlook = addon_outlook(row(next_charge=charge), "USD", [TIER])
    assert outlook.next_charge is not None
    assert outlook.next_charge.amount_minor == charge.amount_minor(AddonTotals.at([TIER], RENEWAL))
    assert 0 < outlook.next_charge.amount_minor < TIER.annual_minor


def test_totals_recorded_without_their_lines_read_as_one_line():
    totals = AddonTotals(monthly_credits=1500, monthly_minor=2700, annual_minor=32400)
    outlook = addon_outlook(row(), "USD", totals.billed_lines())
    assert outlook.next_charge is not None and outlook.next_charge.amount_minor == 2700
    assert outlook.monthly_credits == 1500

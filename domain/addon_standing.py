"""Where the add-on stands (``domain.addon``'s ``AddonState`` without its transitions):
every field its subscription workflow keeps, what is due when (renewal, charge, retry,
end), and how it reads to the billing page and to operators.

Everything here is pure and changes nothing; the transitions are ``AddonState``'s.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel

from domain.addon_outlook import LIVE_STATUSES, AddonRow, addon_outlook
from domain.billing import AddonTotals, BillingCharge
from domain.calendar import Period, billing_period
from domain.charges import ChargeInFlight, Dunning
from domain.enums import AddonStatus, BillingCycle
from domain.money import format_money


class AddonStanding(BaseModel):
    """Every field the subscription workflow keeps; carried whole across continue-as-new."""

    account_id: str
    purchase_id: str
    status: AddonStatus
    anchor: date
    currency: str
    billing_cycle: BillingCycle  # the cycle the add-on is billed on now
    pending_billing_cycle: BillingCycle | None = None  # from the end of the paid period
    totals: AddonTotals
    month: Period  # the current credit month; it renews at ``month.end``
    paid_through: datetime  # end of the last paid billing period
    ends_at: datetime | None = None
    dunning: Dunning | None = None
    retry_requested: bool = False
    dunning_retry_days: list[int]
    renewals_this_run: int = 0
    charging: ChargeInFlight | None = None

    # -- what is due --------------------------------------------------------------

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    def next_step_at(self) -> datetime:
        """When the workflow must act next without being told: renew, retry or end."""
        if self.ends_at is not None:
            return min(self.ends_at, self.month.end)
        if self.dunning is not None:
            return self.dunning.next_retry_at(self.dunning_retry_days)
        return self.month.end

    def ends_by(self, now: datetime) -> bool:
        return self.ends_at is not None and now >= self.ends_at

    def retry_due(self, now: datetime) -> bool:
        if self.dunning is None:
            return False
        return self.retry_requested or now >= self.dunning.next_retry_at(self.dunning_retry_days)

    def charge_due(self, boundary: datetime) -> BillingCharge | None:
        """The charge a renewal at ``boundary`` must collect first, if billing is due."""
        if boundary < self.paid_through:
            return None
        cycle = self.pending_billing_cycle or self.billing_cycle
        return BillingCharge.due_at(self.anchor, cycle, boundary)

    def next_charge(self) -> BillingCharge | None:
        if self.dunning is not None:
            return self.dunning.charge
        if self.status is not AddonStatus.ACTIVE:
            return None
        return self.charge_due(self.paid_through)

    def renews_at(self) -> datetime:
        """The next renewal: the end of the month a charge in flight pays for, else
        the end of this one."""
        return (self.charging.month if self.charging is not None else self.month).end

    def paid_until(self) -> datetime:
        """The end of the paid period, counting a charge in flight as paid."""
        if self.charging is not None:
            return self.charging.charge.period.end
        return self.paid_through

    def next_charge_at(self) -> datetime | None:
        if self.dunning is not None:
            return self.dunning.next_retry_at(self.dunning_retry_days)
        return self.paid_through if self.status is AddonStatus.ACTIVE else None

    def unused_paid_period(self, now: datetime) -> Period | None:
        """The paid billing period an end now leaves partly unused (an operator may
        refund it, domain.refunds); None when nothing paid is left: past due, or the
        paid period already over."""
        if not self.live or self.dunning is not None or now >= self.paid_through:
            return None
        last_paid = self.paid_through - timedelta(microseconds=1)
        return billing_period(self.anchor, self.billing_cycle, last_paid)

    # -- how it reads ------------------------------------------------------------------

    def row(self) -> AddonRow:
        return AddonRow(
            account_id=self.account_id,
            status=self.status,
            billing_cycle=self.billing_cycle,
            month=self.month,
            next_charge_at=self.next_charge_at(),
            next_charge=self.next_charge(),
            ends_at=self.ends_at,
        )

    def next_step_summary(self) -> str:
        """What the timer to ``next_step_at`` waits for, e.g. "renewal of 2026-12-26"."""
        at = f"{self.next_step_at():%Y-%m-%d}"
        if self.ends_at is not None and self.next_step_at() >= self.ends_at:
            return f"end of the add-on on {at}"
        if self.dunning is not None:
            return f"payment retry on {at}"
        return f"renewal of {at}"

    def details(self) -> str:
        """The operator's one line, e.g. "renews 2026-12-26, charges $18.00": the
        figures the billing page shows (``domain.addon_outlook``)."""
        if self.charging is not None:
            money = format_money(self.charging.amount_minor, self.currency)
            return f"collecting {money} for the month from {self.charging.month.start:%Y-%m-%d}"
        outlook = addon_outlook(self.row(), self.currency, self.totals.billed_lines())
        renews = f"{self.month.end:%Y-%m-%d}"
        charge = outlook.next_charge
        money = "" if charge is None else format_money(charge.amount_minor, charge.currency)
        if self.status is AddonStatus.ACTIVE:
            assert charge is not None
            line = f"renews {renews}, charges {money}"
            if charge.at != self.month.end:
                line += f" on {charge.at:%Y-%m-%d}"
            after = outlook.monthly_credits_after_renewal
            if after is not None and after != outlook.monthly_credits:
                line += f"; {after:,} credits/month from {renews}"
            return line
        if self.status is AddonStatus.PAST_DUE:
            assert self.dunning is not None
            retry = self.dunning.next_retry_at(self.dunning_retry_days)
            return (
                f"past due: {money} declined {self.dunning.attempts} time(s), "
                f"retries {retry:%Y-%m-%d}; no credits until paid"
            )
        ends = "" if self.ends_at is None else f"{self.ends_at:%Y-%m-%d}"
        if self.status is AddonStatus.CANCELLING:
            if self.month.end < (self.ends_at or self.month.end):
                return f"cancelling: renews {renews} without charge, ends {ends}"
            return f"cancelling: ends {ends}, no further charges"
        return f"{self.status.value} on {ends}"

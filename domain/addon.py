"""The add-on as its subscription workflow holds it, and the billing rules it follows
(DESIGN.md §1): monthly credit renewals, charges when billing is due, dunning,
cancellation at the end of the paid period, and billing-cycle changes.

Everything here is pure: the workflow passes in the business time and runs the
side effects (charges, grants, row writes) as activities.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel

from domain.addon_outlook import LIVE_STATUSES as LIVE_STATUSES
from domain.addon_outlook import AddonRow as AddonRow
from domain.addon_outlook import addon_outlook
from domain.billing import AddonTotals as AddonTotals
from domain.billing import BillingCharge as BillingCharge
from domain.calendar import Period, billing_period
from domain.charges import ChargeInFlight as ChargeInFlight
from domain.charges import Dunning as Dunning
from domain.charges import RetryAttempt as RetryAttempt
from domain.enums import AddonStatus, BillingCycle, Currency
from domain.money import format_money

# A customer may cancel an add-on in good standing (again, idempotently, while cancelling).
CANCELLABLE_STATUSES = frozenset({AddonStatus.ACTIVE, AddonStatus.CANCELLING})
# An add-on in which state may spend credits: a cancelling one sends until it ends.
SENDING_STATUSES = frozenset({AddonStatus.ACTIVE, AddonStatus.CANCELLING})
# Days after a declined renewal on which the charge is retried (setting SMS_DUNNING_RETRY_DAYS).
DEFAULT_DUNNING_RETRY_DAYS = (1, 3, 7)


def anchor_locked(status: AddonStatus) -> bool:
    """Whether the account's billing anchor must stay where it is: a live add-on's
    credit months and charges fall on it."""
    return status in LIVE_STATUSES


def currency_locked(current: Currency, wanted: Currency, has_bought: bool) -> bool:
    """Whether the account may not move from ``current`` to ``wanted``: once it has
    bought anything it pays in its currency for life (its payments, receipts and add-on
    prices are in it)."""
    return wanted is not current and has_bought


class AddonState(BaseModel):
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

    # -- transitions ----------------------------------------------------------------

    def charge_started(self, month: Period, charge: BillingCharge, amount_minor: int) -> None:
        self.charging = ChargeInFlight(month=month, charge=charge, amount_minor=amount_minor)

    def renewed(self, month: Period, paid: BillingCharge | None) -> None:
        """A new credit month began; ``paid`` is the charge collected for it, if any."""
        self.charging = None
        if paid is not None:
            self.paid(paid)
        self.month = month
        self.renewals_this_run += 1

    def paid(self, charge: BillingCharge) -> None:
        self.billing_cycle = charge.cycle
        if self.pending_billing_cycle is charge.cycle:
            self.pending_billing_cycle = None
        self.paid_through = charge.period.end

    def fell_past_due(self, month: Period, charge: BillingCharge, at: datetime) -> None:
        """The renewal charge was declined: the month starts without credits."""
        self.month = month
        self.renewals_this_run += 1
        if self._cancelled_while_charged(at):
            return
        self.status = AddonStatus.PAST_DUE
        self.dunning = Dunning(month=month, charge=charge, failed_at=at, attempts=1)

    def retry_started(self, now: datetime) -> RetryAttempt:
        """Consume the retry request and number the attempt. A scheduled retry acts at
        its scheduled time; one asked for (payment method, operator) at ``now``, and
        only scheduled ones count towards suspension."""
        assert self.dunning is not None
        due = self.dunning.next_retry_at(self.dunning_retry_days)
        self.retry_requested = False
        self.dunning.attempts += 1
        return RetryAttempt(
            month=self.dunning.month,
            charge=self.dunning.charge,
            number=self.dunning.attempts,
            at=due if now >= due else now,
            scheduled=now >= due,
        )

    def recovered(self) -> None:
        """The past-due charge was paid; a cancel made meanwhile still ends the add-on
        with the period it paid for."""
        assert self.dunning is not None
        self.charging = None
        self.paid(self.dunning.charge)
        self.dunning = None
        self.retry_requested = False
        if self.status is AddonStatus.PAST_DUE:
            self.status = AddonStatus.ACTIVE

    def retry_failed(self, scheduled: bool, at: datetime) -> bool:
        """Record a declined retry; True when it was the last scheduled one. A cancel
        made while it was charged ends the add-on at once instead."""
        assert self.dunning is not None
        if self._cancelled_while_charged(at):
            return False
        if scheduled:
            self.dunning.retries_done += 1
        return self.dunning.retries_done >= len(self.dunning_retry_days)

    def _cancelled_while_charged(self, at: datetime) -> bool:
        """A declined charge ends the charge in flight. A cancel made while it was
        charged counted on it being paid; nothing is, so the add-on ends at once, as
        a past-due one's cancel does. True when that is so."""
        self.charging = None
        if self.status is not AddonStatus.CANCELLING:
            return False
        self.ends_at = at
        self.dunning = None
        self.retry_requested = False
        return True

    def request_retry(self) -> bool:
        """Ask for a charge retry now (payment method changed, operator); False when
        nothing is owed."""
        if self.dunning is None:
            return False
        self.retry_requested = True
        return True

    def schedule_end(self, now: datetime) -> bool:
        """Cancel at the end of the paid period; past due, nothing is paid, so at once.
        While a charge is in flight, at the end of the period it pays for (its outcome
        decides the rest). False when there was nothing to change (ended, or already
        cancelling)."""
        if not self.live or self.status is AddonStatus.CANCELLING:
            return False
        if self.charging is not None:
            self.ends_at = self.paid_until()
        else:
            self.ends_at = now if self.dunning is not None else self.paid_through
            self.dunning = None
            self.retry_requested = False
        self.status = AddonStatus.CANCELLING
        self.pending_billing_cycle = None
        return True

    def unused_paid_period(self, now: datetime) -> Period | None:
        """The paid billing period an end now leaves partly unused (an operator may
        refund it, domain.refunds); None when nothing paid is left: past due, or the
        paid period already over."""
        if not self.live or self.dunning is not None or now >= self.paid_through:
            return None
        last_paid = self.paid_through - timedelta(microseconds=1)
        return billing_period(self.anchor, self.billing_cycle, last_paid)

    def resume(self, now: datetime) -> bool:
        """Take back a cancel before it takes effect: the add-on is active as it was,
        and the next charge is at the end of the paid period, as before the cancel.
        False when it is not cancelling (or its end has come)."""
        if self.status is not AddonStatus.CANCELLING or self.ends_by(now):
            return False
        # Only a cancel made while a past-due charge was being retried leaves dunning.
        self.status = AddonStatus.PAST_DUE if self.dunning is not None else AddonStatus.ACTIVE
        self.ends_at = None
        return True

    def change_billing_cycle(self, cycle: BillingCycle) -> bool:
        """Bill on ``cycle`` from the end of the paid period (no refund for the old one)."""
        pending = None if cycle is self.billing_cycle else cycle
        if not self.live or self.status is AddonStatus.CANCELLING:
            return False
        if pending is self.pending_billing_cycle:
            return False
        self.pending_billing_cycle = pending
        return True

    def ended(self, status: AddonStatus, at: datetime) -> None:
        self.charging = None
        self.status = status
        self.ends_at = at
        self.dunning = None
        self.retry_requested = False
        self.pending_billing_cycle = None

    def for_next_run(self) -> AddonState:
        return self.model_copy(update={"renewals_this_run": 0}, deep=True)

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

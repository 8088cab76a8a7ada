"""The add-on as its subscription workflow holds it, and the billing rules it follows
(DESIGN.md §1): monthly credit renewals, charges when billing is due, dunning,
cancellation at the end of the paid period, and billing-cycle changes.

Everything here is pure: the workflow passes in the business time and runs the
side effects (charges, grants, row writes) as activities.
"""

from __future__ import annotations

from datetime import datetime

from domain.addon_outlook import LIVE_STATUSES as LIVE_STATUSES
from domain.addon_outlook import AddonRow as AddonRow
from domain.addon_standing import AddonStanding
from domain.billing import AddonTotals as AddonTotals
from domain.billing import BillingCharge as BillingCharge
from domain.calendar import Period
from domain.charges import ChargeInFlight as ChargeInFlight
from domain.charges import Dunning as Dunning
from domain.charges import RetryAttempt as RetryAttempt
from domain.enums import AddonStatus, BillingCycle, Currency

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


class AddonState(AddonStanding):
    """The add-on's state (``domain.addon_standing``) with its transitions: what a
    renewal, a charge and its outcome, a cancel, a resume or a cycle change does to it.
    The subscription workflow carries it whole across continue-as-new."""

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

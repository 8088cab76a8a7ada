"""The add-on as its subscription workflow keeps it: the state (``domain.addon``),
the lock that lets one change of it run at a time, the wake-up a message gives the
main loop, every activity that reads or writes the add-on, the outage it may be
waiting out, and what operators see of it. The workflow (``workflows/subscription.py``)
constructs one and orders its calls into the product's steps and messages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.addon_snapshot import activated_state
from workflows.outages import Outage
from workflows.renewal_charge import RenewalCharges

with workflow.unsafe.imports_passed_through():
    from activities.subscription import SubscriptionActivities
    from boundary.errors import raise_refusal
    from boundary.options import (
        DATABASE_READ,
        DATABASE_WRITE,
        READ_CHECK,
        StepOptions,
    )
    from contracts.subscription import (
        AddonChange,
        AddonLine,
        AddonSnapshot,
        ChargeOutcome,
        ChargeTerms,
        GoodwillGranted,
        GoodwillRequest,
        GrantGoodwill,
        LineEnd,
        Renewal,
        RenewalOutcome,
        SubscriptionStart,
    )
    from domain.addon import AddonState, AddonTotals, BillingCharge
    from domain.calendar import Period
    from domain.enums import AddonStatus
    from workflows.search_attributes import SMS_ADDON_STATUS
    from workflows.summaries import day

# The renewal's expire-and-grant runs as a local activity (added after histories were
# recorded): its marker.
RENEWAL_WRITE_LOCAL_PATCH = "renewal-credits-local"
# A charge priced when it starts, sent without the lock, its retry bounded and an
# unknown outcome left to the payment janitor (added after histories were recorded).
CHARGE_OUTSIDE_LOCK_PATCH = "charge-outside-lock"
# Continue as new at least once a year, so that new code reaches every subscription.
RENEWALS_PER_RUN = 12


class AddonKeeper:
    def __init__(self, account_id: str) -> None:
        self._account_id = account_id
        self._state: AddonState | None = None  # until the run has loaded it
        # One change of the add-on at a time: a message never interleaves with a
        # renewal's writes. A renewal's charge runs without it (``charge``).
        self.lock = asyncio.Lock()
        self._woken = False
        self._published_status: AddonStatus | None = None
        self._note: str | None = None  # beside the details line, e.g. a payment left open
        self.outage = Outage()
        self._charges = RenewalCharges(account_id, self.outage, self.noted)

    @property
    def account_id(self) -> str:
        return self._account_id

    @property
    def loaded(self) -> bool:
        return self._state is not None

    @property
    def state(self) -> AddonState:
        assert self._state is not None, "the subscription has not loaded its add-on yet"
        return self._state

    async def load(self, start: SubscriptionStart) -> AddonState | None:
        """The add-on a previous run carried over, or the one the purchase activated
        (first period paid and granted); None when there is no active add-on to keep
        (e.g. a late pack notification)."""
        state = start.carried or await self._activated_state(start)
        if state is not None:
            self._state = state
            self._publish()
        return state

    async def _activated_state(self, start: SubscriptionStart) -> AddonState | None:
        try:
            snapshot = await self.step_snapshot()
        except (ActivityError, ApplicationError):  # a local activity's failure can be either
            return None  # a refusal; before outages were waited out, any failure
        return activated_state(start, snapshot, workflow.now())

    def time_for_new_run(self) -> bool:
        """Continue as new at least once a year, so that new code reaches every
        subscription, and whenever Temporal suggests it."""
        return (
            self.state.renewals_this_run >= RENEWALS_PER_RUN
            or workflow.info().is_continue_as_new_suggested()
        )

    # -- between steps ------------------------------------------------------------------

    async def apply(self, change: Callable[[AddonState], bool]) -> None:
        """Apply a message's change between changes of the add-on, to a copy that
        replaces the state once it is saved; wake the main loop when it changed
        anything. A permanent failure of the write is raised as its typed refusal (an
        update answers it), leaves the state as it was and never holds the lock."""
        await workflow.wait_condition(lambda: self.loaded)
        async with self.lock:
            changed = self.state.model_copy(deep=True)
            if not (changed.live and change(changed)):
                return
            try:
                await self._save(changed)
            except ActivityError as error:
                raise_refusal(error)
            finally:
                self._woken = True
            self._state = changed
            self._publish()

    async def apply_signal(self, change: Callable[[AddonState], bool]) -> None:
        """A signal has nobody to answer: a refused change is logged, and the row is
        reconciled from the database at the next step (DESIGN.md §3)."""
        try:
            await self.apply(change)
        except ApplicationError as refusal:
            workflow.logger.warning("A message could not be applied: %s", refusal.message)

    async def sleep_until_next_step(self) -> None:
        """A durable timer to the next boundary, retry or end; a message wakes it early."""
        self._woken = False
        if self.state.retry_requested:
            return
        delay = self.state.next_step_at() - workflow.now()
        if delay <= timedelta(0):
            return
        with contextlib.suppress(TimeoutError):  # the timer ran out: the step is due
            await workflow.wait_condition(
                lambda: self._woken,
                timeout=delay,
                timeout_summary=self.state.next_step_summary(),
            )

    # -- activities -----------------------------------------------------------------------

    async def snapshot(self, options: StepOptions = READ_CHECK) -> AddonSnapshot | None:
        """The account's terms and add-on; None when the account has no add-on row."""
        return await workflow.execute_local_activity_method(
            SubscriptionActivities.load_addon_snapshot,
            self._account_id,
            summary="read the account and its add-on",
            **options,
        )

    async def step_snapshot(self) -> AddonSnapshot | None:
        """The snapshot a step of the main loop needs: a database outage is waited out
        (only a missing add-on answers None)."""
        return await self.outage.waited_out(
            lambda: self.snapshot(DATABASE_READ), "reading the add-on"
        )

    async def charge(
        self, charge: BillingCharge, month: Period, attempt: int, at: datetime
    ) -> tuple[ChargeOutcome | None, ChargeTerms | None]:
        """Collect ``charge`` for ``month``, paid or declined; with the price and allotment
        it was charged for, read as it started. The caller holds the lock, which is free
        for messages while the charge is out: the caller reads ``state`` afresh after.
        None when the add-on row went meanwhile: nothing was charged, and the add-on has
        ended cancelled at ``at``, as a renewal that finds no row ends it."""
        request = self._charges.request(charge, month, attempt, at)
        if not workflow.patched(CHARGE_OUTSIDE_LOCK_PATCH):
            return await self._charges.send_holding_lock(request), None
        terms = await self._charges.price(request)
        self.state.charge_started(month, charge, terms.amount_minor)
        self._publish()
        self.lock.release()
        try:
            payment = await self._charges.collect(
                request.model_copy(update={"amount_minor": terms.amount_minor})
            )
        finally:
            await self.lock.acquire()
        if payment is None:  # nothing to renew or charge any more
            await self.end(AddonStatus.CANCELLED, at)
        return payment, terms

    async def renew_credits(
        self, month: Period, *, grant: bool, at: datetime, terms: ChargeTerms | None = None
    ) -> None:
        """``terms``: what the month's charge paid for, granted as it was priced."""
        renewal = Renewal(
            month=month,
            grant=grant,
            at=at,
            row=self.state.row(),
            credits=None if terms is None else terms.monthly_credits,
        )
        summary = f"renewal of {day(month.start)}" + ("" if grant else " (no credits: unpaid)")
        # A local activity, in the task that got the charge's answer: one workflow task and
        # one activity task fewer per renewal. It may run again if its task is lost; the
        # write is keyed by the month, so that changes nothing. The gateway charge stays a
        # regular activity, its own step.
        execute: Callable[..., Awaitable[RenewalOutcome]] = (
            workflow.execute_local_activity_method
            if workflow.patched(RENEWAL_WRITE_LOCAL_PATCH)
            else workflow.execute_activity_method
        )
        outcome = await execute(
            SubscriptionActivities.renew_addon_credits, renewal, summary=summary, **DATABASE_WRITE
        )
        self.state.totals = outcome.totals
        self._publish()

    async def save(self) -> None:
        await self._save(self.state)
        self._publish()

    async def _save(self, state: AddonState) -> None:
        totals: AddonTotals = await workflow.execute_activity_method(
            SubscriptionActivities.save_addon_state,
            AddonChange(at=workflow.now(), row=state.row()),
            summary=f"save the add-on ({state.status.value})",
            **DATABASE_WRITE,
        )
        state.totals = totals

    async def end(self, status: AddonStatus, at: datetime) -> int:
        """Cancelled or suspended: the balance goes to 0 and nothing is charged again.
        Answers the credits that expired."""
        self.state.ended(status, at)
        expired: int = await workflow.execute_activity_method(
            SubscriptionActivities.end_addon,
            AddonChange(at=at, row=self.state.row()),
            summary=f"end the add-on ({status.value}) on {day(at)}",
            **DATABASE_WRITE,
        )
        self._publish()
        return expired

    async def end_credit_pack(self, line_id: str) -> AddonLine:
        """End a pack at the next renewal that charges (an annual account keeps its
        paid year). The caller holds the lock."""
        end = LineEnd(
            account_id=self._account_id,
            line_id=line_id,
            ends_at=max(self.state.renews_at(), self.state.paid_until()),
            at=workflow.now(),
        )
        line: AddonLine = await workflow.execute_activity_method(
            SubscriptionActivities.end_credit_pack,
            end,
            summary=f"end line {line_id} on {day(end.ends_at)}",
            **DATABASE_WRITE,
        )
        await self.save()
        return line

    async def grant_goodwill(self, grant: GrantGoodwill) -> GoodwillGranted:
        """Credits until the next renewal. The caller holds the lock."""
        return await workflow.execute_activity_method(
            SubscriptionActivities.grant_goodwill_credits,
            GoodwillRequest(grant=grant, expires_at=self.state.renews_at(), at=workflow.now()),
            summary=f"goodwill {grant.credits:,} credits",
            **DATABASE_WRITE,
        )

    def wake(self) -> None:
        """The main loop looks at the add-on again (a message changed it)."""
        self._woken = True

    def noted(self, note: str | None) -> None:
        """A line for operators beside the details (None: nothing is waited for)."""
        self._note = note
        self._publish()

    def _publish(self) -> None:
        """Search attribute and details line, for operators in the Temporal UI."""
        state = self.state
        if state.status is not self._published_status:
            workflow.upsert_search_attributes([SMS_ADDON_STATUS.value_set(state.status.value)])
            self._published_status = state.status
        note = "" if self._note is None else f"; {self._note}"
        workflow.set_current_details(state.details() + note)

"""The add-on as its subscription workflow keeps it: the state (``domain.addon``),
the lock that lets one step run at a time, the wake-up a message gives the main
loop, every activity that reads or writes the add-on, and what operators see of it.
The workflow (``workflows/subscription.py``) constructs one and orders its calls
into the product's steps and messages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.operator import OperatorActivities
    from activities.subscription import SubscriptionActivities
    from boundary.errors import raise_refusal
    from boundary.options import DATABASE_WRITE, GATEWAY_CALL, READ_CHECK
    from contracts.operator import EndedNow, EndNowRefund, RefundedPayment
    from contracts.subscription import (
        AddonChange,
        AddonLine,
        AddonSnapshot,
        ChargeOutcome,
        ChargeRequest,
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


def apply_account_terms(state: AddonState, snapshot: AddonSnapshot, now: datetime) -> None:
    """The account row is the truth for plan and cycle; the messages only bring a
    change forward, so one lost in transit still applies at the next boundary."""
    if not snapshot.plan_eligible:
        state.schedule_end(now)
    state.change_billing_cycle(snapshot.account_billing_cycle)
    state.totals = snapshot.totals


class AddonKeeper:
    def __init__(self, account_id: str) -> None:
        self._account_id = account_id
        self._state: AddonState | None = None  # until the run has loaded it
        # One step at a time: a message never interleaves with a renewal's writes.
        self.lock = asyncio.Lock()
        self._woken = False
        self._published_status: AddonStatus | None = None

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
            snapshot = await self.snapshot()
        except (ActivityError, ApplicationError):  # a local activity's failure can be either
            return None
        if (
            snapshot is None
            or snapshot.status is not AddonStatus.ACTIVE
            or snapshot.next_charge_at is None
        ):
            return None
        state = AddonState(
            account_id=start.account_id,
            purchase_id=start.purchase_id,
            status=snapshot.status,
            anchor=snapshot.anchor,
            currency=snapshot.currency,
            billing_cycle=snapshot.addon_billing_cycle,
            totals=snapshot.totals,
            month=snapshot.month,
            paid_through=snapshot.next_charge_at,
            dunning_retry_days=snapshot.dunning_retry_days,
        )
        apply_account_terms(state, snapshot, workflow.now())
        return state

    # -- between steps ------------------------------------------------------------------

    async def apply(self, change: Callable[[AddonState], bool]) -> None:
        """Apply a message's change between steps; record it and wake the main loop
        when it changed anything. A permanent failure of the write is raised as its
        typed refusal (an update answers it) and never holds the lock."""
        await workflow.wait_condition(lambda: self.loaded)
        async with self.lock:
            if self.state.live and change(self.state):
                try:
                    await self.save()
                except ActivityError as error:
                    raise_refusal(error)
                finally:
                    self._woken = True

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

    async def snapshot(self) -> AddonSnapshot | None:
        """The account's terms and add-on; None when the account has no add-on row."""
        return await workflow.execute_local_activity_method(
            SubscriptionActivities.load_addon_snapshot,
            self._account_id,
            summary="read the account and its add-on",
            **READ_CHECK,
        )

    async def charge(
        self, charge: BillingCharge, month: Period, attempt: int, at: datetime
    ) -> ChargeOutcome:
        request = ChargeRequest(
            account_id=self._account_id,
            month_start=month.start,
            charge=charge,
            attempt=attempt,
            at=at,
        )
        return await workflow.execute_activity_method(
            SubscriptionActivities.charge_addon_renewal,
            request,
            summary=f"charge for the month of {day(month.start)}, attempt {attempt}",
            **GATEWAY_CALL,
        )

    async def renew_credits(self, month: Period, *, grant: bool, at: datetime) -> None:
        renewal = Renewal(month=month, grant=grant, at=at, row=self.state.row())
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
        totals: AddonTotals = await workflow.execute_activity_method(
            SubscriptionActivities.save_addon_state,
            AddonChange(at=workflow.now(), row=self.state.row()),
            summary=f"save the add-on ({self.state.status.value})",
            **DATABASE_WRITE,
        )
        self.state.totals = totals
        self._publish()

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

    async def end_now(self, prorated: bool, now: datetime) -> EndedNow:
        """End at once (credits expire, cancelled); with ``prorated``, refund the unused
        days of the paid period (domain.refunds). The caller holds the lock."""
        state = self.state
        period = state.unused_paid_period(now)
        recurring = state.totals.recurring_minor(state.billing_cycle)
        expired = await self.end(AddonStatus.CANCELLED, now)
        self._woken = True
        refunds: list[RefundedPayment] = []
        if prorated and period is not None:
            refunds = await workflow.execute_activity_method(
                OperatorActivities.refund_unused_period,
                EndNowRefund(
                    account_id=self._account_id,
                    period_start=period.start,
                    period_end=period.end,
                    recurring_minor=recurring,
                    at=now,
                ),
                summary=f"prorated refund of the period to {day(period.end)}",
                **GATEWAY_CALL,
            )
        return EndedNow(status=state.status, ends_at=now, credits_expired=expired, refunds=refunds)

    async def end_credit_pack(self, line_id: str) -> AddonLine:
        """End a pack at the next renewal that charges (an annual account keeps its
        paid year). The caller holds the lock."""
        end = LineEnd(
            account_id=self._account_id,
            line_id=line_id,
            ends_at=max(self.state.month.end, self.state.paid_through),
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
            GoodwillRequest(grant=grant, expires_at=self.state.month.end, at=workflow.now()),
            summary=f"goodwill {grant.credits:,} credits",
            **DATABASE_WRITE,
        )

    def _publish(self) -> None:
        """Search attribute and details line, for operators in the Temporal UI."""
        state = self.state
        if state.status is not self._published_status:
            workflow.upsert_search_attributes([SMS_ADDON_STATUS.value_set(state.status.value)])
            self._published_status = state.status
        workflow.set_current_details(state.details())

"""The account's SMS add-on (DESIGN.md §3): an entity workflow that lives as long as it.

sleep until the monthly boundary → charge if billing is due → expire the unused
credits and grant the new allotment (one transaction keyed by the month). A
declined charge makes it past due and retries on the dunning schedule; a cancel
or a downgrade ends it at the end of the paid period. The rules live in
``domain.addon``; this module orders the steps and runs their side effects.
A step holds the add-on's lock except while a charge is out, so messages are
answered meanwhile (docs/design.md, "Failure policy").
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.addon_keeper import AddonKeeper
from workflows.addon_refusals import (
    not_active,
    not_cancelling,
    refuse_unless_live,
    refuse_while_charging,
)
from workflows.addon_snapshot import apply_account_terms
from workflows.end_now import end_at_once, refund_unused_period
from workflows.outages import unavailable

with workflow.unsafe.imports_passed_through():
    from boundary.errors import raise_refusal, refusal
    from contracts.operator import END_NOW_UPDATE, EndedNow, EndNow
    from contracts.subscription import (
        ALLOTMENT_CHANGED_SIGNAL,
        BILLING_CYCLE_CHANGED_SIGNAL,
        CANCEL_UPDATE,
        END_LINE_UPDATE,
        GRANT_GOODWILL_UPDATE,
        PAYMENT_METHOD_CHANGED_SIGNAL,
        PLAN_CHANGED_SIGNAL,
        RESUME_UPDATE,
        RETRY_PAYMENT_SIGNAL,
        STATE_QUERY,
        SUBSCRIPTION_WORKFLOW,
        AddonLine,
        AllotmentChanged,
        BillingCycleChanged,
        CancelAccepted,
        CancelAddon,
        EndLine,
        GoodwillGranted,
        GrantGoodwill,
        PaymentMethodChanged,
        PlanChanged,
        ResumeAccepted,
        ResumeAddon,
        RetryPayment,
        SubscriptionStart,
    )
    from domain.addon import CANCELLABLE_STATUSES, AddonState
    from domain.calendar import credit_month
    from domain.enums import AddonStatus
    from domain.errors import ErrorCode
    from workflows.search_attributes import ACCOUNT_ID

# The operator's end_now update (added after histories were recorded): its marker.
END_NOW_PATCH = "operator-end-now"
# Past due: a cancel came while a past-due charge was retried, and was taken back.
RESUMED_STATUSES = (AddonStatus.ACTIVE, AddonStatus.PAST_DUE)


# Unsandboxed: with many open and a bounded sticky cache, nearly every renewal loads its
# workflow afresh, and the sandbox would re-import this module and wrap every payload's
# conversion each time, a large share of a worker's CPU (docs/design.md, "Sandbox").
# Determinism does not rest on it: this module and what it imports do no I/O and read no
# clock or randomness but Temporal's; tests/test_replay.py replays every recorded history
# of it inside the sandbox too.
@workflow.defn(name=SUBSCRIPTION_WORKFLOW, sandboxed=False)
class SmsSubscriptionWorkflow:
    @workflow.init
    def __init__(self, start: SubscriptionStart) -> None:
        self._addon = AddonKeeper(start.account_id)

    @workflow.run
    async def run(self, start: SubscriptionStart) -> AddonStatus:
        workflow.upsert_search_attributes([ACCOUNT_ID.value_set(start.account_id)])
        if await self._addon.load(start) is None:
            return AddonStatus.INACTIVE
        # Read afresh each time: a message replaces the state when it changes it.
        while self._addon.state.live:
            if self._addon.time_for_new_run():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    SubscriptionStart(
                        account_id=start.account_id,
                        purchase_id=start.purchase_id,
                        carried=self._addon.state.for_next_run(),
                    )
                )
            await self._addon.sleep_until_next_step()
            async with self._addon.lock:
                await self._take_due_step()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._addon.state.status

    # -- the product steps ------------------------------------------------------------

    async def _take_due_step(self) -> None:
        now, state = workflow.now(), self._addon.state
        if not state.live:  # an operator ended it while this step waited for the lock
            return
        if state.ends_by(now):
            assert state.ends_at is not None
            await self._addon.end(AddonStatus.CANCELLED, state.ends_at)
        elif state.dunning is not None:
            if state.retry_due(now):
                await self._retry_charge(now)
        elif now >= state.month.end:
            await self._renew(state.month.end)

    async def _renew(self, boundary: datetime) -> None:
        """A new credit month: charge if billing is due, then expire and grant."""
        state = self._addon.state
        snapshot = await self._addon.step_snapshot()
        if snapshot is None:  # the add-on row is gone: nothing is left to renew or charge
            await self._addon.end(AddonStatus.CANCELLED, boundary)
            return
        apply_account_terms(state, snapshot, boundary)
        if state.ends_by(boundary):
            assert state.ends_at is not None
            await self._addon.end(AddonStatus.CANCELLED, state.ends_at)
            return
        month = credit_month(state.anchor, boundary)
        charge = state.charge_due(boundary)
        if charge is None:
            state.renewed(month, paid=None)
            await self._addon.renew_credits(month, grant=True, at=boundary)
            return
        payment, terms = await self._addon.charge(charge, month, attempt=1, at=boundary)
        state = self._addon.state
        if payment is None:  # the add-on row went while it was charged: ended, uncharged
            return
        if not payment.succeeded:
            state.fell_past_due(month, charge, boundary)
            await self._addon.renew_credits(month, grant=False, at=boundary)
            return
        state.renewed(month, paid=charge)
        await self._addon.renew_credits(month, grant=True, at=boundary, terms=terms)

    async def _retry_charge(self, now: datetime) -> None:
        """Dunning: a retry that succeeds grants the month's allotment at once; the
        last scheduled one that fails suspends the add-on."""
        attempt = self._addon.state.retry_started(now)
        payment, terms = await self._addon.charge(
            attempt.charge, attempt.month, attempt.number, at=attempt.at
        )
        state = self._addon.state
        if payment is None:  # the add-on row went while it was charged: ended, uncharged
            return
        if payment.succeeded:
            state.recovered()
            await self._addon.renew_credits(attempt.month, grant=True, at=attempt.at, terms=terms)
        elif state.retry_failed(attempt.scheduled, attempt.at):
            await self._addon.end(AddonStatus.SUSPENDED, attempt.at)
        else:
            await self._addon.save()

    # -- messages -----------------------------------------------------------------------

    @workflow.signal(name=ALLOTMENT_CHANGED_SIGNAL)
    async def allotment_changed(self, change: AllotmentChanged) -> None:
        """A pack was bought: its credits are granted already; the lines raise the next
        grant and charge. Re-reading them is idempotent."""
        await self._addon.apply_signal(lambda state: True)

    @workflow.signal(name=PLAN_CHANGED_SIGNAL)
    async def plan_changed(self, change: PlanChanged) -> None:
        """A plan that may not have the add-on (Starter) cancels it at period end."""
        if not change.eligible:
            await self._addon.apply_signal(lambda state: state.schedule_end(workflow.now()))

    @workflow.signal(name=BILLING_CYCLE_CHANGED_SIGNAL)
    async def billing_cycle_changed(self, change: BillingCycleChanged) -> None:
        await self._addon.apply_signal(
            lambda state: state.change_billing_cycle(change.billing_cycle)
        )

    @workflow.signal(name=PAYMENT_METHOD_CHANGED_SIGNAL)
    async def payment_method_changed(self, change: PaymentMethodChanged) -> None:
        """A new payment method retries a past-due charge at once."""
        await self._addon.apply_signal(lambda state: state.request_retry())

    @workflow.signal(name=RETRY_PAYMENT_SIGNAL)
    async def retry_payment(self, request: RetryPayment) -> None:
        """An operator retries a past-due charge now."""
        await self._addon.apply_signal(lambda state: state.request_retry())

    @workflow.update(name=CANCEL_UPDATE)
    async def cancel(self, request: CancelAddon) -> CancelAccepted:
        """Cancel at the end of the paid period; repeating it changes nothing."""
        await self._addon.apply(lambda state: state.schedule_end(workflow.now()))
        assert self._addon.state.ends_at is not None
        return CancelAccepted(status=self._addon.state.status, ends_at=self._addon.state.ends_at)

    @cancel.validator
    def _validate_cancel(self, request: CancelAddon) -> None:
        self._addon.outage.refuse_meanwhile()
        if self._addon.loaded and self._addon.state.status not in CANCELLABLE_STATUSES:
            raise not_active()

    @workflow.update(name=RESUME_UPDATE)
    async def resume(self, request: ResumeAddon) -> ResumeAccepted:
        """Take back a cancel before it takes effect; nothing is charged until the end
        of the paid period. The account's plan must still allow the add-on."""
        try:
            snapshot = await self._addon.snapshot()
        except (ActivityError, ApplicationError) as error:  # a local activity's: either
            raise unavailable("reading the account's plan") from error
        if snapshot is not None and not snapshot.plan_eligible:
            raise refusal(
                ErrorCode.PLAN_NOT_ELIGIBLE,
                "The SMS add-on needs a Plus, Professional or Enterprise plan.",
            )

        def resumed(state: AddonState) -> bool:
            if not state.resume(workflow.now()):
                return False
            if snapshot is not None:  # the cycle change a cancel set aside, if any
                state.change_billing_cycle(snapshot.account_billing_cycle)
            return True

        await self._addon.apply(resumed)
        if self._addon.state.status not in RESUMED_STATUSES:
            raise not_cancelling()
        return ResumeAccepted(status=self._addon.state.status)

    @resume.validator
    def _validate_resume(self, request: ResumeAddon) -> None:
        self._addon.outage.refuse_meanwhile()
        if self._addon.loaded and self._addon.state.status is not AddonStatus.CANCELLING:
            raise not_cancelling()

    @workflow.update(name=END_LINE_UPDATE)
    async def end_line(self, request: EndLine) -> AddonLine:
        """End a credit pack at the next renewal: its credits are neither granted nor
        charged after it; no refund. Repeating it answers the same end."""
        await workflow.wait_condition(lambda: self._addon.loaded)
        async with self._addon.lock:
            refuse_unless_live(self._addon)
            try:
                return await self._addon.end_credit_pack(request.line_id)
            except ActivityError as error:
                raise_refusal(error)

    @end_line.validator
    def _validate_end_line(self, request: EndLine) -> None:
        refuse_unless_live(self._addon)

    @workflow.update(name=GRANT_GOODWILL_UPDATE)
    async def grant_goodwill(self, grant: GrantGoodwill) -> GoodwillGranted:
        """Operator credits until the next renewal; idempotent by the request id."""
        await workflow.wait_condition(lambda: self._addon.loaded)
        async with self._addon.lock:
            refuse_unless_live(self._addon)
            return await self._addon.grant_goodwill(grant)

    @grant_goodwill.validator
    def _validate_goodwill(self, grant: GrantGoodwill) -> None:
        refuse_unless_live(self._addon)

    @workflow.update(name=END_NOW_UPDATE)
    async def end_now(self, request: EndNow) -> EndedNow:
        """An operator ends the add-on at once: credits expire, status cancelled; with
        ``prorated``, the unused days of the paid period go back (domain.refunds)."""
        workflow.patched(END_NOW_PATCH)
        await workflow.wait_condition(lambda: self._addon.loaded)
        async with self._addon.lock:
            now = workflow.now()
            refuse_unless_live(self._addon)
            refuse_while_charging(self._addon)
            ended, refund = await end_at_once(self._addon, request.prorated, now)
        if refund is None:
            return ended
        # Ended, nothing else changes it: the gateway is called without the lock.
        return await refund_unused_period(self._addon, ended, refund)

    @end_now.validator
    def _validate_end_now(self, request: EndNow) -> None:
        refuse_unless_live(self._addon)
        refuse_while_charging(self._addon)

    @workflow.query(name=STATE_QUERY)
    def current_state(self) -> AddonState:
        return self._addon.state

"""A2P 10DLC registration (``a2p-10dlc:{account_id}``): brand review, then campaign
review, each decided by the carrier (webhook), an operator (signal) or, on the
embedded stack only, the sandbox carrier.

A late decision sends a reminder every ``reminder_after`` and the step times out
after ``decision_timeout``. A failed or timed-out registration waits the same
``decision_timeout`` for corrected details (the ``resubmit`` update) before the
run ends; a later submission then starts a new run with the same id.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.registration import RegistrationActivities
    from boundary.options import DATABASE_WRITE
    from contracts.registration import (
        CarrierDecision,
        DecisionSource,
        RegistrationRecord,
        RegistrationReminder,
        RegistrationStart,
        RegistrationState,
        RegistrationStep,
    )
    from domain.enums import RegistrationStatus
    from domain.errors import ErrorCode
    from domain.registration import BrandDetails, RegistrationDetails, resubmit_refusal
    from workflows import search_attributes
    from workflows.summaries import moment


@workflow.defn(name="A2pRegistration")
class A2pRegistrationWorkflow:
    def __init__(self) -> None:
        self._state = RegistrationState(status=RegistrationStatus.NONE)
        # The step and submission in review; decisions about anything else are ignored.
        self._waiting_for: RegistrationStep | None = None
        self._reviewing = 0
        self._decision: CarrierDecision | None = None
        self._correction: RegistrationDetails | None = None
        # Set when the run has decided to end: no resubmit is accepted after it.
        self._closing = False

    @workflow.run
    async def run(self, start: RegistrationStart) -> RegistrationState:
        workflow.upsert_search_attributes(
            [search_attributes.ACCOUNT_ID.value_set(start.account_id)]
        )
        try:
            await self._until_approved_or_closed(start)
        except ActivityError as error:  # a record refused for good (a reminder never is)
            self._unrecorded(error)
        workflow.set_current_details(
            f"Registration {self._state.status.value} at {moment(workflow.now())}."
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _until_approved_or_closed(self, start: RegistrationStart) -> None:
        details, submission = start.details, start.submission
        approved_brand: BrandDetails | None = None
        while True:
            approved_brand = await self._review(start, details, submission, approved_brand)
            if self._state.status is RegistrationStatus.APPROVED:
                return
            correction = await self._await_correction(start.decision_timeout)
            if correction is None:
                return
            details, submission = correction, submission + 1

    def _unrecorded(self, error: ActivityError) -> None:
        """The row cannot be written: the run ends ``failed`` and says why; the
        account's next submission starts a new run."""
        reason = f"The registration could not be recorded: {error.cause}"
        workflow.logger.error("A2P 10DLC registration ends unrecorded: %s", reason)
        self._closing = True
        self._state = self._state.model_copy(
            update={"status": RegistrationStatus.FAILED, "reason": reason}
        )
        workflow.upsert_search_attributes(
            [search_attributes.A2P_REGISTRATION_STATUS.value_set(RegistrationStatus.FAILED.value)]
        )

    @workflow.signal
    def decide(self, decision: CarrierDecision) -> None:
        """A carrier decision (from the webhook) or an operator's."""
        self._accept(decision)

    @workflow.update
    async def submitted(self) -> RegistrationState:
        """The state once this run's first submission is on record (or could not be)."""
        await workflow.wait_condition(lambda: self._state.submission > 0 or self._closing)
        return self._state

    @workflow.update
    async def resubmit(self, details: RegistrationDetails) -> RegistrationState:
        """Corrected details for a failed or timed-out registration; answers once
        the new submission is on record."""
        self._correction = details
        target = self._state.submission + 1
        await workflow.wait_condition(lambda: self._state.submission >= target or self._closing)
        return self._state

    @resubmit.validator
    def _may_resubmit(self, details: RegistrationDetails) -> None:
        waiting = not self._closing and self._correction is None
        refused = resubmit_refusal(self._state.status, taking_corrections=waiting)
        if refused is not None:
            raise ApplicationError(refused, type=ErrorCode.CONFLICT.value, non_retryable=True)

    @workflow.query
    def state(self) -> RegistrationState:
        return self._state

    async def _review(
        self,
        start: RegistrationStart,
        details: RegistrationDetails,
        submission: int,
        approved_brand: BrandDetails | None,
    ) -> BrandDetails | None:
        """Take one submission through the brand (unless this exact brand is already
        approved) and the campaign; returns the brand now approved, if any."""
        steps = [RegistrationStep.CAMPAIGN]
        if approved_brand != details.brand:
            steps.insert(0, RegistrationStep.BRAND)
        for step in steps:
            decision = await self._decision_on(start, step, details, submission)
            if decision is not None and decision.approved:
                continue
            if decision is None:
                status = RegistrationStatus.TIMED_OUT
                reason = f"The carrier did not decide on the {step} in time."
            else:
                status = RegistrationStatus.FAILED
                reason = f"The carrier rejected the {step}: {decision.reason or 'no reason given'}"
            await self._record(start, details, submission, status, reason)
            return approved_brand if step is RegistrationStep.BRAND else details.brand
        await self._record(start, details, submission, RegistrationStatus.APPROVED, None)
        return details.brand

    async def _decision_on(
        self,
        start: RegistrationStart,
        step: RegistrationStep,
        details: RegistrationDetails,
        submission: int,
    ) -> CarrierDecision | None:
        """Submit ``step`` and wait for its decision, reminding while it is late;
        ``None`` when it timed out."""
        self._waiting_for, self._reviewing, self._decision = step, submission, None
        await self._record(start, details, submission, step.pending_status, None)
        since = workflow.now()
        deadline = since + start.decision_timeout
        workflow.set_current_details(
            f"Waiting for the carrier's decision on the {step.value} of submission "
            f"{submission} (webhook or `decide` signal); times out at {moment(deadline)}."
        )
        sandbox = None
        if start.sandbox_carrier_delay is not None:
            sandbox = asyncio.create_task(
                self._sandbox_carrier(step, submission, start.sandbox_carrier_delay)
            )
        reminders = 0
        while self._decision is None and workflow.now() < deadline:
            next_reminder = since + start.reminder_after * (reminders + 1)
            # Waking before the deadline means a reminder is due.
            if not await self._decided_before(min(next_reminder, deadline)) and (
                workflow.now() < deadline
            ):
                reminders += 1
                await self._remind(start.account_id, step, submission, reminders, since)
        if sandbox is not None:
            sandbox.cancel()
        self._waiting_for = None
        return self._decision

    async def _decided_before(self, wake: datetime) -> bool:
        if wake <= workflow.now():
            return self._decision is not None
        try:
            await workflow.wait_condition(
                lambda: self._decision is not None, timeout=wake - workflow.now()
            )
        except TimeoutError:
            return False
        return True

    async def _sandbox_carrier(
        self, step: RegistrationStep, submission: int, delay: timedelta
    ) -> None:
        """The embedded stack's stand-in for a carrier: approves after ``delay``."""
        await workflow.sleep(delay)
        self._accept(
            CarrierDecision(
                step=step, approved=True, submission=submission, source=DecisionSource.SANDBOX
            )
        )

    def _accept(self, decision: CarrierDecision) -> None:
        stale = decision.submission is not None and decision.submission != self._reviewing
        if decision.step is not self._waiting_for or stale or self._decision is not None:
            workflow.logger.info("Ignoring a decision nobody waits for: %s", decision)
            return
        self._decision = decision

    async def _await_correction(self, window: timedelta) -> RegistrationDetails | None:
        until = workflow.now() + window
        workflow.set_current_details(
            f"Registration {self._state.status.value}: waiting for corrected details "
            f"(POST the registration again) until {moment(until)}."
        )
        try:
            await workflow.wait_condition(
                lambda: self._correction is not None,
                timeout=window,
                timeout_summary=f"corrections close {moment(until)}",
            )
        except TimeoutError:
            # A resubmit accepted as the window closed is honoured, never stranded.
            self._closing = True
            await workflow.wait_condition(
                lambda: self._correction is not None or workflow.all_handlers_finished()
            )
            if self._correction is None:
                return None
        correction, self._correction = self._correction, None
        return correction

    async def _remind(
        self,
        account_id: str,
        step: RegistrationStep,
        submission: int,
        number: int,
        since: datetime,
    ) -> None:
        """A late decision's reminder is a log line: one that cannot be written is
        skipped, never a reason to stop waiting for the carrier."""
        try:
            await workflow.execute_activity_method(
                RegistrationActivities.remind,
                RegistrationReminder(
                    account_id=account_id,
                    step=step,
                    submission=submission,
                    number=number,
                    waiting_since=since,
                    at=workflow.now(),
                ),
                summary=f"reminder {number} about the {step.value}",
                **DATABASE_WRITE,
            )
        except ActivityError as error:
            workflow.logger.warning("Reminder %d was not sent: %s", number, error.cause)
            return
        self._state = self._state.model_copy(
            update={"reminders_sent": self._state.reminders_sent + 1}
        )

    async def _record(
        self,
        start: RegistrationStart,
        details: RegistrationDetails,
        submission: int,
        status: RegistrationStatus,
        reason: str | None,
    ) -> None:
        """Write the row first, then expose the state: a caller told "recorded"
        finds the row saying so."""
        await workflow.execute_activity_method(
            RegistrationActivities.record_registration,
            RegistrationRecord(
                account_id=start.account_id,
                status=status,
                reason=reason,
                details=details,
                submission=submission,
                at=workflow.now(),
            ),
            summary=f"record {status.value}",
            **DATABASE_WRITE,
        )
        self._state = self._state.model_copy(
            update={"status": status, "reason": reason, "submission": submission}
        )
        workflow.upsert_search_attributes(
            [search_attributes.A2P_REGISTRATION_STATUS.value_set(status.value)]
        )

"""One auto top-up (``SmsAutoTopUp``), started for the row a debit claimed:
charge it once (key from the row) → settle (grant, or turn auto top-up off) →
start the deliveries of the events it wrote. It never claims another: only a debit
can, under the caps (``store.balance_watch``). A charge whose answer does not come
within the gateway's bound waits for the payment janitor to settle it, the top-up in
flight meanwhile (``PaymentOutcomes``); a refund is sent again until answered."""

from __future__ import annotations

from functools import partial

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.payment_outcomes import UNREACHABLE, PaymentOutcomes

with workflow.unsafe.imports_passed_through():
    from activities.auto_top_up import AutoTopUpActivities
    from activities.events import EventActivities
    from boundary.errors import refusal_of
    from boundary.options import BOUNDED_GATEWAY_CALL, DATABASE_READ, DATABASE_WRITE, TEMPORAL_CALL
    from contracts.events import (
        AUTO_TOP_UP_WORKFLOW,
        TopUpCapture,
        TopUpOutcome,
        TopUpRefund,
        TopUpSettlement,
        TopUpStart,
    )
    from contracts.payment_janitor import Recorded
    from domain.events import TopUpStatus
    from domain.money import format_money
    from workflows.search_attributes import ACCOUNT_ID
    from workflows.summaries import with_note


@workflow.defn(name=AUTO_TOP_UP_WORKFLOW)
class AutoTopUpWorkflow:
    @workflow.init
    def __init__(self, start: TopUpStart) -> None:
        self._charging = f"Charging auto top-up {start.top_up_id}."
        self._payments = PaymentOutcomes(self._noted)

    @workflow.run
    async def run(self, start: TopUpStart) -> TopUpOutcome:
        """Charge, settle, deliver. A charge refused for good settles as declined (auto
        top-up off); credits that can never be granted are refunded first: the top-up
        always ends recorded, never as a failed workflow."""
        workflow.upsert_search_attributes([ACCOUNT_ID.value_set(start.account_id)])
        workflow.set_current_details(self._charging)
        try:
            capture = await self._payments.charged(
                partial(self._charge, start), partial(self._recorded, start)
            )
        except (ActivityError, ApplicationError) as error:  # refused: nothing was charged
            found = refusal_of(error)
            why = found.message if found is not None else str(error)
            return await self._settle(start, None, f"The charge was refused: {why}")
        if capture.unsent:  # settled as never seen by the provider: verified uncharged
            return await self._settle(start, capture, UNREACHABLE)
        money = format_money(capture.amount_minor, capture.currency)
        try:
            outcome = await self._settle(start, capture)
        except ActivityError as error:
            why = f"The credits could not be granted ({error.cause})"
            if capture.succeeded:
                why = await self._give_back(start, capture, why)
            return await self._settle(start, capture, why)
        workflow.set_current_details(
            f"Auto top-up {start.top_up_id} {outcome.status.value}: {money}, "
            f"{outcome.credits:,} credits; balance {outcome.balance:,}."
        )
        return outcome

    def _noted(self, note: str | None) -> None:
        """What the top-up, in flight meanwhile, waits for."""
        workflow.set_current_details(with_note(self._charging, note))

    async def _charge(self, start: TopUpStart) -> TopUpCapture:
        return await workflow.execute_activity_method(
            AutoTopUpActivities.capture_top_up,
            start,
            summary=f"charge {start.top_up_id}",
            **BOUNDED_GATEWAY_CALL,
        )

    async def _recorded(self, start: TopUpStart) -> Recorded[TopUpCapture] | None:
        return await workflow.execute_local_activity_method(
            AutoTopUpActivities.find_top_up_capture,
            start,
            summary=f"read the charge of {start.top_up_id}",
            **DATABASE_READ,
        )

    async def _settle(
        self, start: TopUpStart, capture: TopUpCapture | None, refused: str | None = None
    ) -> TopUpOutcome:
        """Settle (grant, or decline ``refused``), then start the deliveries of the
        events it wrote. Only the first, plain settle raises: a refused one is the
        last word, and is logged for an operator when it cannot be written either."""
        settlement = TopUpSettlement(
            top_up_id=start.top_up_id, capture=capture, at=workflow.now(), refused=refused
        )
        try:
            outcome = await workflow.execute_activity_method(
                AutoTopUpActivities.settle_auto_top_up,
                settlement,
                summary="grant its credits"
                if refused is None and capture is not None and capture.succeeded
                else "declined: turn off",
                **DATABASE_WRITE,
            )
        except ActivityError as error:
            if refused is None:
                raise
            workflow.logger.error(
                "Auto top-up %s stays in flight: %s; it could not be settled: %s",
                start.top_up_id,
                refused,
                error.cause,
            )
            outcome = TopUpOutcome(status=TopUpStatus.IN_FLIGHT, credits=0, balance=0)
        await self._deliver_events(start)
        if refused is not None:
            workflow.set_current_details(f"Auto top-up {start.top_up_id} declined: {refused}")
        return outcome

    async def _give_back(self, start: TopUpStart, capture: TopUpCapture, why: str) -> str:
        """Refund a charge whose credits can never be granted; why it settles declined."""
        refund = TopUpRefund(
            top_up_id=start.top_up_id, payment_id=capture.payment_id, at=workflow.now()
        )

        async def send() -> None:
            await workflow.execute_activity_method(
                AutoTopUpActivities.refund_top_up,
                refund,
                summary="refund: the credits cannot be granted",
                **BOUNDED_GATEWAY_CALL,
            )

        try:
            await self._payments.refunded(send)
        except ActivityError as error:
            workflow.logger.error(
                "Auto top-up %s needs attention: %s and the refund of %s failed: %s",
                start.top_up_id,
                why,
                capture.payment_id,
                error.cause,
            )
            return f"{why}; the refund failed and an operator has been alerted."
        return f"{why}; the charge was refunded."

    async def _deliver_events(self, start: TopUpStart) -> None:
        """Start the deliveries of the events the settlement wrote; the event sweep
        starts any this could not."""
        try:
            await workflow.execute_activity_method(
                EventActivities.dispatch_events,
                start.account_id,
                summary="deliver its events",
                **TEMPORAL_CALL,
            )
        except ActivityError as error:
            workflow.logger.warning("Its events wait for the sweep: %s", error.cause)

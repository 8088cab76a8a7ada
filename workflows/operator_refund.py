"""One operator refund (API.md "Operators"), recorded by the API before it starts:
refund through the gateway under the request's key, then settle it (credits revoked,
audit completed). The API waits on the ``outcome`` update; the work goes on without it.
While the provider does not answer, the request stays ``requested`` (its amount held)
and the refund is sent again under its key after growing pauses (``PaymentOutcomes``).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.payment_outcomes import PaymentOutcomes

with workflow.unsafe.imports_passed_through():
    from activities.operator import OperatorActivities
    from boundary.errors import refusal, refusal_of
    from boundary.options import BOUNDED_GATEWAY_CALL, DATABASE_WRITE
    from contracts.operator import (
        OPERATOR_REFUND_WORKFLOW,
        OperatorRefundStart,
        RefundedPayment,
        SettleRefund,
    )
    from domain.errors import ErrorCode
    from domain.money import format_money
    from workflows.search_attributes import ACCOUNT_ID
    from workflows.summaries import moment


@workflow.defn(name=OPERATOR_REFUND_WORKFLOW)
class OperatorRefundWorkflow:
    @workflow.init
    def __init__(self, start: OperatorRefundStart) -> None:
        self._done: RefundedPayment | None = None
        self._refused: str | None = None  # why no refund was settled, as the API answers

    @workflow.run
    async def run(self, start: OperatorRefundStart) -> RefundedPayment | None:
        """Refund, then settle; a permanent failure of either ends the run with what
        it means said and recorded where it can be, never as a failed workflow."""
        workflow.upsert_search_attributes([ACCOUNT_ID.value_set(start.account_id)])
        money = format_money(start.amount_minor, start.currency)
        refunding = f"Refunding {money} of {start.payment_id}"
        workflow.set_current_details(refunding)

        def noted(note: str | None) -> None:  # the request stays requested meanwhile
            workflow.set_current_details(refunding if note is None else f"{refunding}; {note}")

        async def send() -> str:
            return await workflow.execute_activity_method(
                OperatorActivities.refund_operator_request,
                start,
                summary=f"refund {money}",
                **BOUNDED_GATEWAY_CALL,
            )

        try:
            refund_id = await PaymentOutcomes(noted).refunded(send)
        except ActivityError as error:  # refused: only a refusal ends the rounds
            found = refusal_of(error)
            why = found.message if found is not None else str(error)
            await self._release(start, why)
            return await self._ended(
                None, f"Refused by the provider at {moment(workflow.now())}: {why}"
            )
        try:
            done: RefundedPayment = await workflow.execute_activity_method(
                OperatorActivities.settle_operator_refund,
                SettleRefund(
                    request_id=start.request_id, refund_payment_id=refund_id, at=start.requested_at
                ),
                summary="record the refund, revoke credits, complete the audit",
                **DATABASE_WRITE,
            )
        except ActivityError as error:
            return await self._needs_attention(
                start, f"refund {refund_id} was made but could not be recorded: {error.cause}"
            )
        self._done = done
        return await self._ended(
            done,
            f"Refund {done.payment_id} {done.status.value}: {money} at {moment(workflow.now())}"
            f", {done.credits_revoked:,} credits revoked",
        )

    @workflow.update
    async def outcome(self) -> RefundedPayment:
        """The refund once settled, or why not (409 ``conflict``)."""
        await workflow.wait_condition(lambda: self._done is not None or self._refused is not None)
        if self._done is None:
            assert self._refused is not None
            raise refusal(ErrorCode.CONFLICT, self._refused)
        return self._done

    async def _release(self, start: OperatorRefundStart, why: str) -> None:
        """Nothing was refunded: free the request's amount, then answer."""
        try:
            await workflow.execute_activity_method(
                OperatorActivities.fail_operator_refund,
                start.request_id,
                summary="free the refused refund's amount",
                **DATABASE_WRITE,
            )
        except ActivityError as error:
            workflow.logger.error(
                "Operator refund request %d stays requested: %s", start.request_id, error.cause
            )
        self._refused = f"The provider refused the refund: {why}"

    async def _needs_attention(
        self, start: OperatorRefundStart, why: str
    ) -> RefundedPayment | None:
        """The money may have gone back while the request says otherwise: the request
        keeps its amount held and an operator is alerted (docs/runbook.md)."""
        self._refused = f"The refund needs an operator's attention: {why}"
        workflow.logger.error(
            "Operator refund request %d needs attention: %s", start.request_id, why
        )
        return await self._ended(None, f"Needs attention since {moment(workflow.now())}: {why}")

    async def _ended(self, done: RefundedPayment | None, details: str) -> RefundedPayment | None:
        workflow.set_current_details(details)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return done

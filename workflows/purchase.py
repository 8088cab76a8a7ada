"""The purchase of the SMS add-on or a recurring credit pack (DESIGN.md §3).

check permission and eligibility → quote (recorded) → wait for confirm, cancel or
expiry → check permission, claim the item → capture → grant → reach the
subscription. The API starts it with update-with-start on ``review`` and answers
with the quote.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

from workflows.payment_outcomes import UNREACHABLE
from workflows.purchase_steps import PurchaseSteps

with workflow.unsafe.imports_passed_through():
    from boundary.errors import Fault, refusal_of
    from contracts.purchase import Decision, PaymentRef, PurchaseInput, PurchaseView
    from domain.enums import PurchaseStatus
    from domain.errors import ErrorCode
    from domain.money import format_money
    from domain.pricing import Quote
    from domain.purchase import Failure, Phase
    from workflows.search_attributes import ACCOUNT_ID
    from workflows.summaries import moment


Refusal = ActivityError | ApplicationError

# The purchase's steps once ran as regular activities, one workflow task each; since
# this patch they are local activities. Every kept history carries its marker:
# deprecated, it still replays them (docs/design.md "Patches").
STEPS_AS_LOCAL_ACTIVITIES = "steps-as-local-activities"


# Unsandboxed, as the subscription is and for its reasons (workflows/subscription.py);
# tests/test_replay.py replays every purchase history inside the sandbox too.
@workflow.defn(name="SmsPurchase", sandboxed=False)
class PurchaseWorkflow:
    @workflow.init
    def __init__(self, request: PurchaseInput) -> None:
        self._phase = Phase.PRICING
        self._steps = PurchaseSteps(request)

    @workflow.run
    async def run(self, request: PurchaseInput) -> PurchaseView:
        workflow.deprecate_patch(STEPS_AS_LOCAL_ACTIVITIES)
        if workflow.info().typed_search_attributes.get(ACCOUNT_ID) is None:  # not set at start
            workflow.upsert_search_attributes([ACCOUNT_ID.value_set(request.account_id)])
        try:
            quote = await self._steps.quote_and_record()
        except (ActivityError, ApplicationError) as error:
            return await self._reject(error)
        self._phase = Phase.AWAITING_DECISION

        if not await self._wait_for_decision(quote):
            return await self._end(
                PurchaseStatus.EXPIRED,
                ErrorCode.QUOTE_EXPIRED,
                "The quote expired before it was confirmed.",
            )
        if self._phase is Phase.CANCELLED:
            return await self._end(PurchaseStatus.CANCELLED)

        # The confirm checked the permission in this same workflow task.
        try:
            await self._steps.claim(quote)
        except (ActivityError, ApplicationError) as error:
            return await self._reject(error)

        capture = None
        if quote.due_now_minor > 0:  # a downgrade's quote of 0 charges nothing
            try:
                capture = await self._steps.capture(quote)
            except (ActivityError, ApplicationError) as error:
                return await self._capture_refused(error)
            if capture.unsent:  # settled as never seen by the provider: verified uncharged
                return await self._end(
                    PurchaseStatus.FAILED,
                    ErrorCode.PAYMENT_PROVIDER_ERROR,
                    f"{UNREACHABLE} Try again later.",
                )
            if not capture.succeeded:
                return await self._end(
                    PurchaseStatus.DECLINED,
                    ErrorCode.PAYMENT_DECLINED,
                    capture.decline_reason or "The payment was declined.",
                )
        try:
            await self._steps.grant(quote)
        except (ActivityError, ApplicationError) as error:  # a local activity's: its cause
            # Only a refusal means the credits can never be granted; anything else was
            # retried until it stopped (the grant is idempotent and may have committed).
            failure = refusal_of(error)
            if failure is None:
                raise
            if capture is None:  # nothing was charged: nothing to give back
                code = failure.type or Fault.GRANT_FAILED
                return await self._end(PurchaseStatus.REJECTED, code, failure.message)
            return await self._give_back(capture.payment, failure.message)
        try:
            await self._steps.reach_subscription(quote)
        except (ActivityError, ApplicationError) as error:
            # Paid and granted in one transaction, the purchase is complete; a missing
            # subscription is started again by the reconciler, and a running one
            # re-reads its lines at its next renewal.
            workflow.logger.error("The purchase could not reach the subscription: %s", error)
        return await self._end(PurchaseStatus.COMPLETED, recorded=True)

    # -- messages -----------------------------------------------------------------

    @workflow.update
    async def review(self) -> PurchaseView:
        """The quote (or the refusal), answered to the API's update-with-start."""
        await workflow.wait_condition(lambda: self._phase is not Phase.PRICING)
        return self._steps.view()

    @workflow.update
    async def confirm(self, decision: Decision) -> PurchaseView:
        """Confirm the quote; answers once the purchase has ended (captured and granted,
        or not). A confirm that arrives while one is in flight joins it."""
        await self._steps.check_permission(decision.user_id)
        self._validate_confirm(decision)  # again: the phase may have moved meanwhile
        if self._phase is Phase.AWAITING_DECISION:
            self._phase = Phase.CONFIRMED
        await workflow.wait_condition(lambda: self._phase is Phase.ENDED)
        return self._steps.view()

    @confirm.validator
    def _validate_confirm(self, decision: Decision) -> None:
        if self._phase is Phase.AWAITING_DECISION:
            assert self._steps.quote is not None
            if workflow.now() >= self._steps.quote.expires_at:
                raise self._quote_expired()
            return
        if self._phase is Phase.CONFIRMED:
            return  # joins the confirm in flight
        if self._steps.status is PurchaseStatus.EXPIRED:
            raise self._quote_expired()
        raise self._not_awaiting()

    @workflow.update
    async def cancel(self, decision: Decision) -> PurchaseView:
        await self._steps.check_permission(decision.user_id)
        self._validate_cancel(decision)
        self._phase = Phase.CANCELLED
        await workflow.wait_condition(lambda: self._phase is Phase.ENDED)
        return self._steps.view()

    @cancel.validator
    def _validate_cancel(self, decision: Decision) -> None:
        if self._phase is not Phase.AWAITING_DECISION:
            raise self._not_awaiting()

    @workflow.query
    def view(self) -> PurchaseView:
        return self._steps.view()

    # -- steps --------------------------------------------------------------------

    async def _wait_for_decision(self, quote: Quote) -> bool:
        """Wait on a durable timer for confirm or cancel; False when the quote expired."""
        workflow.set_current_details(
            f"Waiting for the customer to confirm or cancel; the quote of "
            f"{format_money(quote.due_now_minor, quote.currency)} expires at "
            f"{moment(quote.expires_at)}."
        )
        try:
            await workflow.wait_condition(
                lambda: self._phase is not Phase.AWAITING_DECISION,
                timeout=max(quote.expires_at - workflow.now(), timedelta(0)),
                timeout_summary=f"quote expires {moment(quote.expires_at)}",
            )
        except TimeoutError:
            return False
        return True

    # -- status -------------------------------------------------------------------

    async def _reject(self, error: Refusal) -> PurchaseView:
        """End without money moving: rejected on a refusal (expired for a stale quote),
        or rejected as ``service_unavailable`` when a check ran out of time."""
        failure = refusal_of(error)
        if failure is not None and failure.type == ErrorCode.QUOTE_EXPIRED:
            return await self._end(PurchaseStatus.EXPIRED, failure.type, failure.message)
        if failure is not None and failure.type is not None:
            return await self._end(PurchaseStatus.REJECTED, failure.type, failure.message)
        if isinstance(error, ActivityError) and isinstance(error.cause, ActivityTimeoutError):
            return await self._end(
                PurchaseStatus.REJECTED,
                ErrorCode.SERVICE_UNAVAILABLE,
                "The purchase could not be checked in time; nothing was charged. Try again.",
            )
        raise error

    async def _capture_refused(self, error: Refusal) -> PurchaseView:
        """A capture that moved money answers a result, so a refused one took nothing:
        ``failed`` when the provider refused the request itself (not the card), else
        rejected as any other refusal before money moves. An unknown outcome never
        comes here (the capture waits for the payment janitor), so nothing ends the
        purchase as if nothing was charged while it may have been."""
        failure = refusal_of(error)
        if failure is None:
            raise error
        if failure.type == Fault.GATEWAY_REJECTED:
            return await self._end(
                PurchaseStatus.FAILED, ErrorCode.PAYMENT_PROVIDER_ERROR, failure.message
            )
        return await self._reject(error)

    async def _give_back(self, payment: PaymentRef, why: str) -> PurchaseView:
        """The money was taken and the credits can never be granted: refund it (keyed),
        or, when the refund fails too, end ``needs_attention`` and alert an operator."""
        try:
            await self._steps.refund(payment)
        except ActivityError as error:
            refused = refusal_of(error)
            reason = refused.message if refused is not None else str(error.cause or error)
            money = format_money(payment.amount_minor, payment.currency)
            workflow.logger.error(
                "Purchase needs attention: %s captured as %s, the credits could not be "
                "granted (%s) and the refund failed (%s)",
                money,
                payment.payment_id,
                why,
                reason,
            )
            return await self._end(
                PurchaseStatus.NEEDS_ATTENTION,
                Fault.REFUND_FAILED,
                f"The credits could not be granted and the refund of {money} failed "
                f"({reason}); an operator has been alerted.",
            )
        return await self._end(
            PurchaseStatus.REFUNDED,
            Fault.GRANT_FAILED,
            f"The credits could not be granted ({why}); the payment was refunded.",
        )

    async def _end(
        self,
        status: PurchaseStatus,
        code: str | None = None,
        message: str = "",
        *,
        recorded: bool = False,
    ) -> PurchaseView:
        """End as ``status``; ``recorded``: a step's transaction has written it already."""
        failure = None if code is None else Failure(code=code, message=message)
        await self._steps.end(status, failure, recorded)
        self._phase = Phase.ENDED
        # Let every waiting review/confirm/cancel answer before the run closes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._steps.view()

    @staticmethod
    def _not_awaiting() -> ApplicationError:
        return ApplicationError(
            "The purchase is not awaiting confirmation.",
            type=ErrorCode.NOT_AWAITING_CONFIRMATION.value,
        )

    @staticmethod
    def _quote_expired() -> ApplicationError:
        return ApplicationError("The quote has expired.", type=ErrorCode.QUOTE_EXPIRED.value)

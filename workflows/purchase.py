"""The purchase of the SMS add-on or a recurring credit pack (DESIGN.md §3).

review quote → wait for confirm / cancel / expiry → capture → grant → subscription.
The API starts it with update-with-start on ``review`` and answers with the quote.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.enums import ItemType, PurchaseStatus
    from domain.errors import ErrorCode
    from domain.money import format_money
    from domain.pricing import Quote, build_quote
    from domain.purchase import (
        GRANT_FAILED,
        TERMINAL_STATUSES,
        AccountSnapshot,
        CallerCheck,
        CaptureRequest,
        CaptureResult,
        Decision,
        EligibilityCheck,
        Failure,
        GrantRequest,
        PaymentRef,
        PurchaseInput,
        PurchaseView,
        RefundRequest,
    )
    from domain.subscription import AllotmentChanged, SubscriptionStart
    from workflows.search_attributes import ACCOUNT_ID, SMS_PURCHASE_STATUS

CHECK_TIMEOUT = timedelta(seconds=10)
# A write takes milliseconds; past this an attempt is presumed lost (its worker died).
WRITE_TIMEOUT = timedelta(seconds=10)
WRITE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
# A grant that keeps failing after the money was taken is refunded, not retried forever.
GRANT_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=8)


@workflow.defn(name="SmsPurchase")
class PurchaseWorkflow:
    @workflow.init
    def __init__(self, request: PurchaseInput) -> None:
        self._request = request
        self._status = PurchaseStatus.PROCESSING
        self._quoted_or_ended = False
        self._quote: Quote | None = None
        self._payment: PaymentRef | None = None
        self._failure: Failure | None = None
        self._created_at = workflow.now()
        self._completed_at: datetime | None = None
        self._confirmed_by: str | None = None
        self._cancelled = False

    @workflow.run
    async def run(self, request: PurchaseInput) -> PurchaseView:
        workflow.upsert_search_attributes([ACCOUNT_ID.value_set(request.account_id)])
        try:
            await self._check_permission(request.user_id)
            snapshot = await self._check_eligibility()
        except (ActivityError, ApplicationError) as error:
            return await self._reject(error)
        self._quote = self._price(snapshot)
        await self._set_status(PurchaseStatus.AWAITING_CONFIRMATION)
        self._quoted_or_ended = True

        if not await self._wait_for_decision(self._quote):
            return await self._end(
                PurchaseStatus.EXPIRED,
                ErrorCode.QUOTE_EXPIRED,
                "The quote expired before it was confirmed.",
            )
        if self._cancelled:
            return await self._end(PurchaseStatus.CANCELLED)

        await self._set_status(PurchaseStatus.PROCESSING)
        try:
            assert self._confirmed_by is not None
            await self._check_permission(self._confirmed_by)
            snapshot = await self._check_eligibility()
        except (ActivityError, ApplicationError) as error:
            return await self._reject(error)

        capture = await self._capture(self._quote, snapshot)
        self._payment = capture.payment
        if not capture.succeeded:
            return await self._end(
                PurchaseStatus.DECLINED,
                ErrorCode.PAYMENT_DECLINED,
                capture.decline_reason or "The payment was declined.",
            )
        try:
            await self._grant(snapshot)
        except ActivityError:
            await self._refund(capture.payment)
            return await self._end(
                PurchaseStatus.REFUNDED,
                GRANT_FAILED,
                "The credits could not be granted; the payment was refunded.",
            )
        await self._reach_subscription()
        return await self._end(PurchaseStatus.COMPLETED)

    # -- messages -----------------------------------------------------------------

    @workflow.update
    async def review(self) -> PurchaseView:
        """The quote (or the refusal), answered to the API's update-with-start."""
        await workflow.wait_condition(lambda: self._quoted_or_ended)
        return self._view()

    @workflow.update
    async def confirm(self, decision: Decision) -> PurchaseView:
        """Confirm the quote; answers once the purchase has ended (captured and granted,
        or not). A confirm that arrives while one is in flight joins it."""
        await self._check_permission(decision.user_id)
        self._validate_confirm(decision)
        self._confirmed_by = self._confirmed_by or decision.user_id
        await workflow.wait_condition(lambda: self._status in TERMINAL_STATUSES)
        return self._view()

    @confirm.validator
    def _validate_confirm(self, decision: Decision) -> None:
        undecided = self._confirmed_by is None and not self._cancelled
        awaiting = self._status is PurchaseStatus.AWAITING_CONFIRMATION and undecided
        assert self._quote is not None or not awaiting
        if self._status is PurchaseStatus.EXPIRED or (
            awaiting and self._quote is not None and workflow.now() >= self._quote.expires_at
        ):
            raise ApplicationError("The quote has expired.", type=ErrorCode.QUOTE_EXPIRED.value)
        joining = self._confirmed_by is not None and self._status not in TERMINAL_STATUSES
        if not (awaiting or joining):
            raise self._not_awaiting()

    @workflow.update
    async def cancel(self, decision: Decision) -> PurchaseView:
        await self._check_permission(decision.user_id)
        self._validate_cancel(decision)
        self._cancelled = True
        await workflow.wait_condition(lambda: self._status in TERMINAL_STATUSES)
        return self._view()

    @cancel.validator
    def _validate_cancel(self, decision: Decision) -> None:
        undecided = self._confirmed_by is None and not self._cancelled
        if self._status is not PurchaseStatus.AWAITING_CONFIRMATION or not undecided:
            raise self._not_awaiting()

    @workflow.query
    def view(self) -> PurchaseView:
        return self._view()

    # -- steps --------------------------------------------------------------------

    async def _check_permission(self, user_id: str) -> None:
        check = CallerCheck(account_id=self._request.account_id, user_id=user_id)
        await workflow.execute_local_activity(
            "check_permission", check, start_to_close_timeout=CHECK_TIMEOUT
        )

    async def _check_eligibility(self) -> AccountSnapshot:
        check = EligibilityCheck(account_id=self._request.account_id, item=self._request.item)
        snapshot: AccountSnapshot = await workflow.execute_local_activity(
            "check_eligibility",
            check,
            result_type=AccountSnapshot,
            start_to_close_timeout=CHECK_TIMEOUT,
        )
        return snapshot

    def _price(self, snapshot: AccountSnapshot) -> Quote:
        return build_quote(
            item=snapshot.item,
            cycle=snapshot.billing_cycle,
            anchor=snapshot.billing_anchor,
            currency=snapshot.currency,
            current_monthly_credits=snapshot.monthly_credits,
            current_recurring_minor=snapshot.recurring_minor,
            now=workflow.now(),
            ttl=self._request.quote_ttl,
        )

    async def _wait_for_decision(self, quote: Quote) -> bool:
        """Wait on a durable timer for confirm or cancel; False when the quote expired."""
        workflow.set_current_details(
            f"Waiting for the customer to confirm or cancel; the quote of "
            f"{format_money(quote.due_now_minor, quote.currency)} expires at "
            f"{quote.expires_at:%Y-%m-%d %H:%M} UTC."
        )
        try:
            await workflow.wait_condition(
                lambda: self._confirmed_by is not None or self._cancelled,
                timeout=max(quote.expires_at - workflow.now(), timedelta(0)),
            )
        except TimeoutError:
            return False
        return True

    async def _capture(self, quote: Quote, snapshot: AccountSnapshot) -> CaptureResult:
        workflow.set_current_details(
            f"Capturing {format_money(quote.due_now_minor, quote.currency)} "
            f"from {snapshot.payment_method}."
        )
        request = CaptureRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            amount_minor=quote.due_now_minor,
            currency=quote.currency,
            at=workflow.now(),
        )
        result: CaptureResult = await workflow.execute_activity(
            "capture_payment",
            request,
            result_type=CaptureResult,
            start_to_close_timeout=WRITE_TIMEOUT,
            retry_policy=WRITE_RETRY,
        )
        return result

    async def _grant(self, snapshot: AccountSnapshot) -> None:
        workflow.set_current_details("Payment captured; granting the credits.")
        request = GrantRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            item=self._request.item,
            currency=snapshot.currency,
            at=workflow.now(),
        )
        await workflow.execute_activity(
            "grant_purchase",
            request,
            start_to_close_timeout=WRITE_TIMEOUT,
            retry_policy=GRANT_RETRY,
        )

    async def _refund(self, payment: PaymentRef) -> None:
        workflow.set_current_details("The grant failed for good; refunding the payment.")
        request = RefundRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            payment_id=payment.payment_id,
            at=workflow.now(),
        )
        await workflow.execute_activity(
            "refund_payment",
            request,
            result_type=PaymentRef,
            start_to_close_timeout=WRITE_TIMEOUT,
            retry_policy=WRITE_RETRY,
        )

    async def _reach_subscription(self) -> None:
        """Start the subscription (add-on) or tell it the allotment grew (pack)."""
        account_id, purchase_id = self._request.account_id, self._request.purchase_id
        if self._request.item.type is ItemType.ADDON:
            name: str = "start_subscription"
            message: object = SubscriptionStart(account_id=account_id, purchase_id=purchase_id)
        else:
            name = "notify_allotment_changed"
            message = AllotmentChanged(account_id=account_id, purchase_id=purchase_id)
        await workflow.execute_activity(
            name, message, start_to_close_timeout=WRITE_TIMEOUT, retry_policy=WRITE_RETRY
        )

    # -- status -------------------------------------------------------------------

    async def _reject(self, error: ActivityError | ApplicationError) -> PurchaseView:
        """End as rejected on a business refusal; anything else fails loudly."""
        refusal = error.cause if isinstance(error, ActivityError) else error
        if not isinstance(refusal, ApplicationError) or refusal.type is None:
            raise error
        return await self._end(PurchaseStatus.REJECTED, refusal.type, refusal.message)

    async def _end(
        self, status: PurchaseStatus, code: str | None = None, message: str = ""
    ) -> PurchaseView:
        if code is not None:
            self._failure = Failure(code=code, message=message)
        self._completed_at = workflow.now()
        await self._set_status(status)
        self._quoted_or_ended = True
        workflow.set_current_details(f"Ended {status.value}." + (f" {message}" if message else ""))
        # Let every waiting review/confirm/cancel answer before the run closes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view()

    async def _set_status(self, status: PurchaseStatus) -> None:
        """Record first, then publish: the API never shows a status the DB lacks."""
        view = self._view().model_copy(update={"status": status})
        await workflow.execute_activity(
            "record_purchase",
            view,
            start_to_close_timeout=WRITE_TIMEOUT,
            retry_policy=WRITE_RETRY,
        )
        self._status = status
        workflow.upsert_search_attributes([SMS_PURCHASE_STATUS.value_set(status.value)])

    def _view(self) -> PurchaseView:
        return PurchaseView(
            purchase_id=self._request.purchase_id,
            status=self._status,
            item=self._request.item,
            quote=self._quote,
            payment=self._payment,
            failure=self._failure,
            created_at=self._created_at,
            completed_at=self._completed_at,
        )

    @staticmethod
    def _not_awaiting() -> ApplicationError:
        return ApplicationError(
            "The purchase is not awaiting confirmation.",
            type=ErrorCode.NOT_AWAITING_CONFIRMATION.value,
        )

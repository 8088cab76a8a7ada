"""The purchase workflow's steps: every activity it calls, each with its options and
its summary for operators. The workflow (``workflows/purchase.py``) orders them as
DESIGN.md §3 does and answers its messages; this base class holds no handler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.purchase import PurchaseActivities
    from activities.subscription_link import SubscriptionLinkActivities
    from boundary.options import (
        DATABASE_WRITE,
        GATEWAY_CALL,
        LOCAL_RETRY_THRESHOLD,
        READ_CHECK,
        TEMPORAL_CALL,
        StepOptions,
        waited_on,
    )
    from contracts.purchase import (
        CallerCheck,
        CaptureRequest,
        CaptureResult,
        ClaimRequest,
        EligibilityCheck,
        GrantRequest,
        PaymentRef,
        PurchaseInput,
        PurchaseView,
        QuoteRequest,
        RefundRequest,
    )
    from contracts.subscription import AllotmentChanged, SubscriptionStart
    from domain.enums import ItemType, PurchaseStatus
    from domain.money import format_money
    from domain.pricing import Quote
    from domain.purchase import Failure, Phase
    from workflows.search_attributes import SMS_PURCHASE_STATUS

# The purchase's steps once ran as regular activities, one workflow task each; since
# this patch they are local activities (a quote is one task, a confirm another). Every
# kept history carries its marker: deprecated, it replays them and writes no branch.
STEPS_AS_LOCAL_ACTIVITIES = "steps-as-local-activities"


class PurchaseSteps:
    _request: PurchaseInput
    _phase: Phase
    _status: PurchaseStatus
    _quote: Quote | None
    _payment: PaymentRef | None
    _failure: Failure | None
    _created_at: datetime
    _completed_at: datetime | None

    async def _step(
        self, step: Callable[..., Any], arg: Any, summary: str, options: StepOptions
    ) -> Any:
        """Run ``step`` as a local activity: the workflow task that reaches it runs it
        with the steps before and after it. Each is safe to run again (a local activity
        is, when its worker dies before the task completes) by its key."""
        return await workflow.execute_local_activity_method(
            step, arg, summary=summary, local_retry_threshold=LOCAL_RETRY_THRESHOLD, **options
        )

    async def _check_permission(self, user_id: str) -> None:
        await workflow.execute_local_activity_method(
            PurchaseActivities.check_permission,
            CallerCheck(account_id=self._request.account_id, user_id=user_id),
            summary=f"may {user_id} buy?",
            **READ_CHECK,
        )

    async def _quote_and_record(self) -> Quote:
        """Check, price and record the quote in one local activity."""
        request = self._request
        quote: Quote = await workflow.execute_local_activity_method(
            PurchaseActivities.quote_purchase,
            QuoteRequest(
                caller=CallerCheck(account_id=request.account_id, user_id=request.user_id),
                eligibility=EligibilityCheck(
                    account_id=request.account_id, item=request.item, at=workflow.now()
                ),
                ttl=request.quote_ttl,
                record=self._recorded_as(PurchaseStatus.AWAITING_CONFIRMATION),
            ),
            summary=f"may {request.user_id} buy {request.item.item_id}? price and record it",
            local_retry_threshold=LOCAL_RETRY_THRESHOLD,
            **READ_CHECK,
        )
        return quote

    async def _claim(self, quote: Quote, record: PurchaseView) -> None:
        """Take the right to the item before any money moves (or be refused); ``record``
        is written in the claim's transaction."""
        claim = ClaimRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            item=self._request.item,
            quote_month_end=quote.credits_expire_at,
            at=workflow.now(),
            tier_change=quote.tier_change,
            record=record,
        )
        await self._step(
            PurchaseActivities.claim_item,
            claim,
            f"claim {self._request.item.item_id}",
            DATABASE_WRITE,
        )

    async def _capture(self, quote: Quote) -> CaptureResult:
        money = format_money(quote.due_now_minor, quote.currency)
        workflow.set_current_details(f"Capturing {money}.")
        request = CaptureRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            amount_minor=quote.due_now_minor,
            currency=quote.currency,
            at=workflow.now(),
        )
        result: CaptureResult = await self._step(
            PurchaseActivities.capture_payment, request, f"capture {money}", GATEWAY_CALL
        )
        return result

    async def _grant(self, quote: Quote, record: PurchaseView) -> None:
        workflow.set_current_details(
            "Payment captured; granting the credits."
            if quote.tier_change is None
            else f"Changing the tier ({quote.tier_change.direction.value})."
        )
        request = GrantRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            item=self._request.item,
            currency=quote.currency,
            at=workflow.now(),
            tier_change=quote.tier_change,
            effective_at=quote.effective_at,
            credits_now=quote.credits_now,
            record=record,
        )
        await self._step(
            PurchaseActivities.grant_purchase,
            request,
            f"grant {quote.credits_now:,} credits",
            DATABASE_WRITE,
        )

    async def _refund(self, payment: PaymentRef) -> None:
        workflow.set_current_details("The grant failed for good; refunding the payment.")
        request = RefundRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            payment_id=payment.payment_id,
            at=workflow.now(),
        )
        await workflow.execute_activity_method(
            PurchaseActivities.refund_payment,
            request,
            summary=f"refund {format_money(payment.amount_minor, payment.currency)}",
            **waited_on(GATEWAY_CALL),
        )

    async def _reach_subscription(self, quote: Quote) -> None:
        """Start the subscription (add-on) or tell it the allotment changed (a pack, a
        tier change)."""
        account_id, purchase_id = self._request.account_id, self._request.purchase_id
        if self._request.item.type is ItemType.ADDON and quote.tier_change is None:
            await self._step(
                SubscriptionLinkActivities.start_subscription,
                SubscriptionStart(account_id=account_id, purchase_id=purchase_id),
                "start the subscription",
                TEMPORAL_CALL,
            )
        else:
            await self._step(
                SubscriptionLinkActivities.notify_allotment_changed,
                AllotmentChanged(account_id=account_id, purchase_id=purchase_id),
                "raise the subscription's allotment"
                if quote.tier_change is None
                else "tell the subscription the tier changed",
                TEMPORAL_CALL,
            )

    async def _set_status(self, status: PurchaseStatus) -> None:
        """Record first, then publish: the API never shows a status the DB lacks."""
        await self._step(
            PurchaseActivities.record_purchase,
            self._recorded_as(status),
            f"record {status.value}",
            DATABASE_WRITE,
        )
        self._publish(status)

    def _recorded_as(self, status: PurchaseStatus) -> PurchaseView:
        """The purchase's record once it has moved to ``status``."""
        return self._view().model_copy(update={"status": status})

    def _publish(self, status: PurchaseStatus) -> None:
        """A status recorded (by its own step, or in a claim's or grant's transaction)."""
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

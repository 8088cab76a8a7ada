"""The purchase's steps and the record they keep: every activity the purchase workflow
calls, each with its options and its summary for operators, and the purchase's record
(status, quote, payment, outcome) as those steps write it. The workflow
(``workflows/purchase.py``) constructs one, orders its steps as DESIGN.md §3 does
and answers the customer's messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.payment_outcomes import PaymentOutcomes

with workflow.unsafe.imports_passed_through():
    from activities.purchase import PurchaseActivities
    from activities.subscription_link import SubscriptionLinkActivities
    from boundary.options import (
        BOUNDED_GATEWAY_CALL,
        DATABASE_READ,
        DATABASE_WRITE,
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
    from domain.purchase import Failure
    from workflows.search_attributes import SMS_PURCHASE_STATUS
    from workflows.summaries import moment, with_note


class PurchaseSteps:
    """One purchase's steps; ``status`` and ``quote`` are what the workflow's messages
    are answered from, changed only by these steps."""

    def __init__(self, request: PurchaseInput) -> None:
        self._request = request
        self.status = PurchaseStatus.PROCESSING
        self.quote: Quote | None = None
        self._payment: PaymentRef | None = None
        self._failure: Failure | None = None
        self._created_at = request.created_at or workflow.now()
        self._completed_at: datetime | None = None
        self._details = ""  # the details line, to which a wait for the provider is added
        self._payments = PaymentOutcomes(self._noted)

    async def check_permission(self, user_id: str) -> None:
        await workflow.execute_local_activity_method(
            PurchaseActivities.check_permission,
            CallerCheck(account_id=self._request.account_id, user_id=user_id),
            summary=f"may {user_id} buy?",
            **READ_CHECK,
        )

    async def quote_and_record(self) -> Quote:
        """Check, price and record the quote in one local activity: the quote is its
        result in the history, never priced again."""
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
        self.quote = quote
        self._publish(PurchaseStatus.AWAITING_CONFIRMATION)
        return quote

    async def claim(self, quote: Quote) -> None:
        """Take the right to the item before any money moves (or be refused); the
        ``processing`` record is written in the claim's transaction."""
        claim = ClaimRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            item=self._request.item,
            quote_month_end=quote.credits_expire_at,
            at=workflow.now(),
            tier_change=quote.tier_change,
            record=self._recorded_as(PurchaseStatus.PROCESSING),
        )
        await self._local(
            PurchaseActivities.claim_item,
            claim,
            f"claim {self._request.item.item_id}",
            DATABASE_WRITE,
        )
        self._publish(PurchaseStatus.PROCESSING)

    async def capture(self, quote: Quote) -> CaptureResult:
        """Captured, declined, or never seen by the provider (``unsent``): never unknown.
        Past the gateway's bound the capture waits for the payment janitor to settle
        its attempt (``PaymentOutcomes``); a refusal of the request is raised."""
        money = format_money(quote.due_now_minor, quote.currency)
        self._say(f"Capturing {money}.")
        request = CaptureRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            amount_minor=quote.due_now_minor,
            currency=quote.currency,
            at=workflow.now(),
            lines=quote.lines,
        )
        capture, find = PurchaseActivities.capture_payment, PurchaseActivities.find_capture
        result: CaptureResult = await self._payments.charged(
            partial(self._local, capture, request, f"capture {money}", BOUNDED_GATEWAY_CALL),
            partial(self._local, find, request, "read the capture", DATABASE_READ),
        )
        self._payment = result.payment
        return result

    async def grant(self, quote: Quote) -> None:
        """Grant the credits; the ``completed`` record is written in its transaction
        (and becomes the status once the subscription has been reached)."""
        workflow.set_current_details(
            "Payment captured; granting the credits."
            if quote.tier_change is None
            else f"Changing the tier ({quote.tier_change.direction.value})."
        )
        self._completed_at = workflow.now()
        request = GrantRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            item=self._request.item,
            currency=quote.currency,
            at=workflow.now(),
            tier_change=quote.tier_change,
            effective_at=quote.effective_at,
            credits_now=quote.credits_now,
            record=self._recorded_as(PurchaseStatus.COMPLETED),
        )
        await self._local(
            PurchaseActivities.grant_purchase,
            request,
            f"grant {quote.credits_now:,} credits",
            DATABASE_WRITE,
        )

    async def refund(self, payment: PaymentRef) -> None:
        """A regular activity: rare, and a gateway call worth its own task. Sent again
        under its key, after a pause, until the provider answers; its refusal is raised."""
        self._say("The credits cannot be granted; refunding the payment.")
        request = RefundRequest(
            account_id=self._request.account_id,
            purchase_id=self._request.purchase_id,
            payment_id=payment.payment_id,
            at=workflow.now(),
        )

        async def send() -> PaymentRef:
            return await workflow.execute_activity_method(
                PurchaseActivities.refund_payment,
                request,
                summary=f"refund {format_money(payment.amount_minor, payment.currency)}",
                **waited_on(BOUNDED_GATEWAY_CALL),
            )

        await self._payments.refunded(send)

    async def reach_subscription(self, quote: Quote) -> None:
        """Start the subscription (add-on) or tell it the allotment changed (a pack, a
        tier change)."""
        account_id, purchase_id = self._request.account_id, self._request.purchase_id
        if self._request.item.type is ItemType.ADDON and quote.tier_change is None:
            await self._local(
                SubscriptionLinkActivities.start_subscription,
                SubscriptionStart(account_id=account_id, purchase_id=purchase_id),
                "start the subscription",
                TEMPORAL_CALL,
            )
        else:
            await self._local(
                SubscriptionLinkActivities.notify_allotment_changed,
                AllotmentChanged(account_id=account_id, purchase_id=purchase_id),
                "raise the subscription's allotment"
                if quote.tier_change is None
                else "tell the subscription the tier changed",
                TEMPORAL_CALL,
            )

    async def end(self, status: PurchaseStatus, failure: Failure | None, recorded: bool) -> None:
        """The outcome; ``recorded``: the grant's transaction has written it already."""
        self._failure = failure
        if recorded:
            assert self._completed_at is not None
            self._publish(status)
        else:
            self._completed_at = workflow.now()
            # Record first, then publish: the API never shows a status the DB lacks.
            try:
                await self._local(
                    PurchaseActivities.record_purchase,
                    self._recorded_as(status),
                    f"record {status.value}",
                    DATABASE_WRITE,
                )
            except (ActivityError, ApplicationError) as error:
                # Refused for good (its row is gone): the run still ends, and says so.
                workflow.logger.error("The purchase ended %s unrecorded: %s", status.value, error)
            self._publish(status)
        workflow.set_current_details(
            f"Ended {status.value} at {moment(self._completed_at)}."
            + (f" {failure.message}" if failure is not None and failure.message else "")
        )

    def view(self) -> PurchaseView:
        return PurchaseView(
            purchase_id=self._request.purchase_id,
            status=self.status,
            item=self._request.item,
            quote=self.quote,
            payment=self._payment,
            failure=self._failure,
            created_at=self._created_at,
            completed_at=self._completed_at,
        )

    def _say(self, details: str) -> None:
        self._details = details
        workflow.set_current_details(details)

    def _noted(self, note: str | None) -> None:
        """What the purchase waits for meanwhile, beside the step's details line."""
        workflow.set_current_details(with_note(self._details, note))

    def _recorded_as(self, status: PurchaseStatus) -> PurchaseView:
        """The purchase's record once it has moved to ``status``."""
        return self.view().model_copy(update={"status": status})

    def _publish(self, status: PurchaseStatus) -> None:
        """A status recorded (by its own step, or in a quote's, claim's or grant's
        transaction), shown to operators."""
        self.status = status
        workflow.upsert_search_attributes([SMS_PURCHASE_STATUS.value_set(status.value)])

    @staticmethod
    async def _local(step: Callable[..., Any], arg: Any, summary: str, options: StepOptions) -> Any:
        """Run ``step`` as a local activity: the workflow task that reaches it runs it
        with the steps before and after it, so a quote is one task and a confirm another.
        Each is safe to run again (a local activity is, when its worker dies before the
        task completes) by its key: the record and the claim by the purchase id, the
        capture by its payment key, the grant by the purchase id, the subscription by
        its workflow id."""
        return await workflow.execute_local_activity_method(
            step, arg, summary=summary, local_retry_threshold=LOCAL_RETRY_THRESHOLD, **options
        )

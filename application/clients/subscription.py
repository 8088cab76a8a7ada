"""The account's subscription workflow (``SmsSubscription``) as the API calls it.

Its updates' validators decide whether the add-on is in a state to take each one (the
API reads nothing first); a subscription that is not running (never bought, or ended)
raises ``WorkflowGone``, which each caller answers in its own words.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar, cast

from temporalio.client import WorkflowHandle

from application.context import Services
from application.temporal_calls import answer
from contracts.operator import EndedNow, EndNow
from contracts.subscription import (
    AddonLine,
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
    subscription_workflow_id,
)
from workflows.subscription import SmsSubscriptionWorkflow

T = TypeVar("T")

STILL_WORKING = "The subscription is still acting on it; read the add-on again shortly."
# What an account change tells a running subscription (application/subscription_notify.py).
AccountChange = PlanChanged | BillingCycleChanged | PaymentMethodChanged


def _answered(call: Awaitable[Awaitable[T]]) -> Awaitable[T]:
    """An update call as it runs: the SDK types a method named with
    ``@workflow.update(name=…)`` as answering its coroutine, not the coroutine's result."""
    return cast(Awaitable[T], call)


class SubscriptionClient:
    def __init__(self, services: Services, account_id: str) -> None:
        self._services = services
        self._account_id = account_id

    async def _handle(self) -> WorkflowHandle[SmsSubscriptionWorkflow, Any]:
        client = await self._services.temporal.client()
        return client.get_workflow_handle_for(
            SmsSubscriptionWorkflow.run, subscription_workflow_id(self._account_id)
        )

    async def cancel(
        self, requested_by: str, pending: str = STILL_WORKING, update_id: str | None = None
    ) -> CancelAccepted:
        """Cancel at the end of the paid period (the customer's cancel). ``update_id``:
        a repeat with it answers the first cancel's outcome (``operator_update_id``)."""
        handle = await self._handle()
        request = CancelAddon(account_id=self._account_id, requested_by=requested_by)
        call = _answered(
            handle.execute_update(SmsSubscriptionWorkflow.cancel, request, id=update_id)
        )
        return await answer(self._services, call, pending)

    async def resume(self, requested_by: str) -> ResumeAccepted:
        handle = await self._handle()
        request = ResumeAddon(account_id=self._account_id, requested_by=requested_by)
        call = _answered(handle.execute_update(SmsSubscriptionWorkflow.resume, request))
        return await answer(self._services, call, "The resume is still being processed.")

    async def end_line(self, line_id: str, requested_by: str) -> AddonLine:
        handle = await self._handle()
        request = EndLine(account_id=self._account_id, line_id=line_id, requested_by=requested_by)
        call = _answered(handle.execute_update(SmsSubscriptionWorkflow.end_line, request))
        return await answer(self._services, call, "Ending the line is still being processed.")

    async def grant_goodwill(
        self, credits: int, reason: str, request_id: str, update_id: str
    ) -> GoodwillGranted:
        handle = await self._handle()
        grant = GrantGoodwill(
            account_id=self._account_id, credits=credits, reason=reason, request_id=request_id
        )
        call = _answered(
            handle.execute_update(SmsSubscriptionWorkflow.grant_goodwill, grant, id=update_id)
        )
        return await answer(self._services, call, STILL_WORKING)

    async def end_now(self, requested_by: str, prorated: bool, update_id: str) -> EndedNow:
        """End the add-on now; a repeat with ``update_id`` attaches to the first end (its
        refund may still be going) and answers its outcome."""
        handle = await self._handle()
        request = EndNow(account_id=self._account_id, requested_by=requested_by, prorated=prorated)
        call = _answered(
            handle.execute_update(SmsSubscriptionWorkflow.end_now, request, id=update_id)
        )
        return await answer(self._services, call, STILL_WORKING)

    async def retry_payment(self, requested_by: str) -> None:
        """Ask for a past-due charge now (a signal: nobody answers whether it was due)."""
        handle = await self._handle()
        request = RetryPayment(account_id=self._account_id, requested_by=requested_by)
        call = handle.signal(SmsSubscriptionWorkflow.retry_payment, request)
        await answer(self._services, call, STILL_WORKING)

    async def account_changed(self, change: AccountChange) -> None:
        """Tell the subscription what changed in its account's terms."""
        handle = await self._handle()
        match change:
            case PlanChanged():
                call = handle.signal(SmsSubscriptionWorkflow.plan_changed, change)
            case BillingCycleChanged():
                call = handle.signal(SmsSubscriptionWorkflow.billing_cycle_changed, change)
            case PaymentMethodChanged():
                call = handle.signal(SmsSubscriptionWorkflow.payment_method_changed, change)
        await answer(self._services, call, STILL_WORKING)

"""A purchase's workflow (``SmsPurchase``) as the API calls it: started with its first
update (the review, which answers the quote or the refusal), then confirm or cancel."""

from __future__ import annotations

from collections.abc import Awaitable

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from application.context import Services
from application.temporal_calls import answer
from boundary.options import WAITED_ON_TASK_TIMEOUT
from contracts.purchase import Decision, PurchaseInput, PurchaseView, purchase_workflow_id
from workflows.purchase import PurchaseWorkflow
from workflows.search_attributes import ACCOUNT_ID

STILL_PROCESSING = "The purchase is still being processed; read it again shortly."


class PurchaseClient:
    def __init__(self, services: Services, account_id: str, purchase_id: str) -> None:
        self._services = services
        self._account_id = account_id
        self._purchase_id = purchase_id
        self._id = purchase_workflow_id(account_id, purchase_id)

    async def review(self, purchase: PurchaseInput) -> PurchaseView:
        """Start the purchase (or join the run already started for it) and answer its
        quote or its refusal."""
        client = await self._services.temporal.client()
        item = purchase.item
        start = WithStartWorkflowOperation(
            PurchaseWorkflow.run,
            purchase,
            id=self._id,
            static_summary=f"{self._account_id}: buy {item.type.value} {item.item_id}",
            task_queue=self._services.settings.sms_task_queue,
            task_timeout=WAITED_ON_TASK_TIMEOUT,
            # Set at start, the workflow needs no command (and no visibility write) for it.
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(ACCOUNT_ID, self._account_id)]
            ),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # An ended purchase is never started again; its outcome is in the DB.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        update = client.execute_update_with_start_workflow(
            PurchaseWorkflow.review, start_workflow_operation=start
        )
        return await self._answer(update)

    async def decide(self, user_id: str, *, confirm: bool) -> PurchaseView:
        """Confirm or cancel; answers once the purchase has ended."""
        client = await self._services.temporal.client()
        handle = client.get_workflow_handle(self._id, result_type=PurchaseView)
        update = PurchaseWorkflow.confirm if confirm else PurchaseWorkflow.cancel
        return await self._answer(handle.execute_update(update, Decision(user_id=user_id)))

    async def _answer(self, call: Awaitable[PurchaseView]) -> PurchaseView:
        return await answer(self._services, call, STILL_PROCESSING, purchase_id=self._purchase_id)

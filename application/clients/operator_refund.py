"""An operator refund's workflow (``SmsOperatorRefund``) as the API calls it: started
with the update that answers its outcome (the refund, or the provider's refusal)."""

from __future__ import annotations

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from application.context import Services
from application.temporal_calls import answer
from boundary.options import WORKFLOW_TASK_TIMEOUT
from contracts.operator import OperatorRefundStart, RefundedPayment, operator_refund_workflow_id
from workflows.operator_refund import OperatorRefundWorkflow

REFUND_PENDING = "The refund is still being processed; repeat the request with the same key."


class OperatorRefundClient:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def outcome(self, start: OperatorRefundStart, operator: str) -> RefundedPayment:
        """Run the refund (or join the run already started for it); its outcome."""
        client = await self._services.temporal.client()
        operation = WithStartWorkflowOperation(
            OperatorRefundWorkflow.run,
            start,
            id=operator_refund_workflow_id(start.account_id, start.request_id),
            static_summary=(
                f"{start.account_id}: operator refund of {start.amount_minor} (minor units, "
                f"{start.currency}) of {start.payment_id} by {operator}"
            ),
            task_queue=self._services.settings.sms_task_queue,
            task_timeout=WORKFLOW_TASK_TIMEOUT,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        call = client.execute_update_with_start_workflow(
            OperatorRefundWorkflow.outcome, start_workflow_operation=operation
        )
        return await answer(self._services, call, REFUND_PENDING)

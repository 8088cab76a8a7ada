"""The reconciler (``SmsReconciler``): one pass over what lost workflows left behind,
each finding settled as its own workflow would have (docs/runbook.md "Reconciler").
A Temporal schedule (``sms-reconciler``, kept by the worker) starts a pass every few
minutes; a pass never ends failed: what it cannot settle now, the next pass retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.reconciler import ReconcilerActivities
    from activities.unfinished_purchase import UnfinishedPurchaseActivities
    from boundary.errors import PERMANENT_TYPES
    from boundary.options import StepOptions
    from contracts.reconciler import (
        RECONCILER_WORKFLOW,
        ReconcileRequest,
        ReconcilerReport,
    )
    from workflows.summaries import moment

# A finding takes a database write, a Temporal call or a provider refund (each cut at
# 8 s); the next pass retries what this one could not settle.
STEP = StepOptions(
    start_to_close_timeout=timedelta(minutes=1),
    retry_policy=RetryPolicy(
        maximum_attempts=3,
        maximum_interval=timedelta(seconds=10),
        non_retryable_error_types=list(PERMANENT_TYPES),
    ),
)
# Finding reads the records and asks Temporal about each one's workflow.
FIND = StepOptions(start_to_close_timeout=timedelta(minutes=5), retry_policy=STEP["retry_policy"])


@workflow.defn(name=RECONCILER_WORKFLOW)
class ReconcilerWorkflow:
    @workflow.run
    async def run(self, request: ReconcileRequest) -> ReconcilerReport:
        report = ReconcilerReport()
        workflow.set_current_details(f"Looking for unfinished work, {moment(workflow.now())}")
        try:
            found = await workflow.execute_activity_method(
                ReconcilerActivities.find_unfinished,
                request.model_copy(update={"at": workflow.now()}),
                summary="find what lost workflows left unfinished",
                **FIND,
            )
        except ActivityError as error:
            workflow.logger.warning("Nothing reconciled this pass: %s", error.cause)
            report.left += 1
            return report
        steps: list[tuple[Any, Any, str]] = [
            *(
                (ReconcilerActivities.restart_subscription, s, f"restart {s.account_id}")
                for s in found.subscriptions
            ),
            *(
                (ReconcilerActivities.report_lost_subscription, a, f"report {a}")
                for a in found.lost_subscriptions
            ),
            *(
                (
                    UnfinishedPurchaseActivities.settle_unfinished_purchase,
                    p,
                    f"settle {p.purchase_id}",
                )
                for p in found.purchases
            ),
            *(
                (ReconcilerActivities.settle_refund_request, r, f"refund {r.request_id}")
                for r in found.refunds
            ),
        ]
        for step, finding, summary in steps:
            try:
                report.count(
                    await workflow.execute_activity_method(step, finding, summary=summary, **STEP)
                )
            except ActivityError as error:
                workflow.logger.warning("Left for the next pass (%s): %s", summary, error.cause)
                report.left += 1
        workflow.set_current_details(f"Reconciled at {moment(workflow.now())}: {report.summary()}")
        return report

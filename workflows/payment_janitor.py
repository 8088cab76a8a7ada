"""The payment janitor (``SmsPaymentJanitor``): one sweep over payments whose outcome
stayed unknown, settled against the provider. A Temporal schedule
(``sms-payment-janitor``, kept by the worker) starts a sweep every few minutes."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.payment_janitor import PaymentJanitorActivities
    from contracts.payment_janitor import PAYMENT_JANITOR_WORKFLOW, JanitorReport, JanitorRequest
    from workflows.summaries import moment

# A sweep makes a few provider calls per payment, each bounded by the client timeout.
SWEEP_TIMEOUT = timedelta(minutes=10)
# The next scheduled sweep tries again; retrying a failed one harder buys nothing.
SWEEP_RETRY = RetryPolicy(maximum_attempts=3, maximum_interval=timedelta(minutes=1))


@workflow.defn(name=PAYMENT_JANITOR_WORKFLOW)
class PaymentJanitorWorkflow:
    @workflow.run
    async def run(self, request: JanitorRequest) -> JanitorReport:
        workflow.set_current_details(
            f"Sweeping payments pending over {request.older_than_seconds} s, "
            f"started {moment(workflow.now())}"
        )
        report: JanitorReport = await workflow.execute_activity_method(
            PaymentJanitorActivities.settle_stale_payments,
            request,
            summary="settle payments whose outcome is unknown",
            start_to_close_timeout=SWEEP_TIMEOUT,
            retry_policy=SWEEP_RETRY,
        )
        workflow.set_current_details(
            f"Swept at {moment(workflow.now())}: {report.examined} examined, "
            f"{report.succeeded} succeeded, {report.declined} declined, "
            f"{report.still_open} still open"
        )
        return report

"""One message of the mail outbox, sent (``SmsMailDelivery``).

A workflow per message, its id made from the message's key (account, kind,
reference), so a message is sent by one workflow however often its start is asked
for. It tries a bounded number of times, waiting on a durable timer between attempts
(doubling, as ``SMS_MAIL_*`` say), then records how the message ended (sent, failed
or skipped) and completes: it never ends Failed. A refusal for good is not retried.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.mail import MailActivities
    from boundary.errors import refusal_of
    from boundary.options import DATABASE_WRITE, READ_CHECK, mail_attempt
    from contracts.mail import MAIL_DELIVERY_WORKFLOW, MailDelivery, MailRecord, MailRetry
    from domain.mail import MAIL_OFF, MailStatus
    from workflows.search_attributes import ACCOUNT_ID
    from workflows.summaries import moment


@workflow.defn(name=MAIL_DELIVERY_WORKFLOW)
class MailDeliveryWorkflow:
    @workflow.run
    async def run(self, delivery: MailDelivery) -> MailStatus:
        workflow.upsert_search_attributes([ACCOUNT_ID.value_set(delivery.account_id)])
        plan = await workflow.execute_local_activity_method(
            MailActivities.plan_mail, delivery, summary="mail settings", **READ_CHECK
        )
        if plan.retry is None:
            return await self._ended(delivery, MailStatus.SKIPPED, MAIL_OFF)
        return await self._send(delivery, plan.retry)

    async def _send(self, delivery: MailDelivery, retry: MailRetry) -> MailStatus:
        attempt = 1
        while True:
            workflow.set_current_details(
                f"Sending mail {delivery.mail_id}: attempt {attempt} of {retry.attempts}."
            )
            try:
                status: MailStatus = await workflow.execute_activity_method(
                    MailActivities.send_mail,
                    delivery,
                    summary=f"attempt {attempt} of {retry.attempts}",
                    **mail_attempt(retry),
                )
            except ActivityError as error:
                why = str(error.cause or error)
                if _for_good(error) or attempt == retry.attempts:
                    return await self._ended(delivery, MailStatus.FAILED, why)
                wait = retry.backoff(attempt)
                workflow.set_current_details(
                    f"Mail {delivery.mail_id}: attempt {attempt} of {retry.attempts} failed "
                    f"({why}); the next at {moment(workflow.now() + wait)}."
                )
                await workflow.sleep(wait, summary=f"after attempt {attempt}")
                attempt += 1
                continue
            workflow.set_current_details(f"Mail {delivery.mail_id}: {status}.")
            return status

    async def _ended(self, delivery: MailDelivery, status: MailStatus, why: str) -> MailStatus:
        await workflow.execute_activity_method(
            MailActivities.record_mail,
            MailRecord(mail_id=delivery.mail_id, status=status, at=workflow.now(), detail=why),
            summary=status.value,
            **DATABASE_WRITE,
        )
        workflow.set_current_details(f"Mail {delivery.mail_id}: {status} ({why}).")
        return status


def _for_good(error: ActivityError) -> bool:
    """A failure no later attempt can change (the server refused the message for good,
    or the message is not in the outbox)."""
    cause = error.cause
    return refusal_of(error) is not None or (
        isinstance(cause, ApplicationError) and cause.non_retryable
    )

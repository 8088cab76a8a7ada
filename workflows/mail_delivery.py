"""One message of the mail outbox, sent (``SmsMailDelivery``).

A workflow per message, its id made from the message's key (account, kind,
reference), so a message is sent by one workflow however often its start is asked
for. The send is retried with backoff a bounded number of times; the workflow then
records how it ended (sent, failed or skipped) and completes: it never ends Failed.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.mail import MailActivities
    from boundary.options import DATABASE_WRITE, READ_CHECK, mail_send
    from domain.mail import MAIL_DELIVERY_WORKFLOW, MailDelivery, MailRecord, MailStatus
    from workflows.search_attributes import ACCOUNT_ID


@workflow.defn(name=MAIL_DELIVERY_WORKFLOW)
class MailDeliveryWorkflow:
    @workflow.run
    async def run(self, delivery: MailDelivery) -> MailStatus:
        workflow.upsert_search_attributes([ACCOUNT_ID.value_set(delivery.account_id)])
        plan = await workflow.execute_local_activity_method(
            MailActivities.plan_mail, delivery, summary="mail settings", **READ_CHECK
        )
        if plan.retry is None:
            return await self._ended(delivery, MailStatus.SKIPPED, "mail is off (no SMS_SMTP_URL)")
        workflow.set_current_details(
            f"Sending mail {delivery.mail_id} (up to {plan.retry.attempts} attempts)."
        )
        try:
            status = await workflow.execute_activity_method(
                MailActivities.send_mail,
                delivery,
                summary=f"send {delivery.mail_id}",
                **mail_send(plan.retry),
            )
        except ActivityError as error:
            return await self._ended(delivery, MailStatus.FAILED, str(error.cause or error))
        workflow.set_current_details(f"Mail {delivery.mail_id}: {status}.")
        return status

    async def _ended(self, delivery: MailDelivery, status: MailStatus, why: str) -> MailStatus:
        await workflow.execute_activity_method(
            MailActivities.record_mail,
            MailRecord(mail_id=delivery.mail_id, status=status, at=workflow.now(), detail=why),
            summary=f"{status}: {why}",
            **DATABASE_WRITE,
        )
        workflow.set_current_details(f"Mail {delivery.mail_id}: {status} ({why}).")
        return status

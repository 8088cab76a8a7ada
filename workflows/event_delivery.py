"""Webhook delivery of one event (``SmsEventDelivery``), and the sweep (``SmsEventSweep``)
that starts whatever a lost start left behind.

A workflow per event and delivery round keeps every history short. Each POST is one
activity; after a failure the workflow waits (5 s, doubling, at most an hour, on a
durable timer) and tries again, until a 2xx or until the round's ``retry_for`` has
passed. A refusal that retrying cannot change (``webhook_refused``) ends it at once.
Either way the round ends in a recorded state (delivered, failed with why, or dropped
when the webhook was turned off) and the workflow completes: it never ends failed. An
operator may start another round of a failed event (``POST …/events/{id}/redeliver``).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.events import EventActivities
    from boundary.options import DATABASE_WRITE, SWEEP_STARTS, WEBHOOK_ATTEMPT
    from contracts.events import (
        EVENT_DELIVERY_WORKFLOW,
        EVENT_SWEEP_WORKFLOW,
        DeliveryAttempt,
        DeliveryRecord,
        EventDelivery,
        SweepReport,
    )
    from domain.events import WEBHOOK_REFUSED, delivery_backoff
    from workflows.search_attributes import ACCOUNT_ID

# Histories recorded before it made one activity call that Temporal retried forever.
BOUNDED_DELIVERY = "bounded-delivery"


def _last_error(failure: ActivityError) -> tuple[str, bool]:
    """What went wrong, in a sentence, and whether trying again could help."""
    cause = failure.cause  # what the activity raised (a timeout when it never answered)
    if isinstance(cause, ApplicationError):
        return cause.message, not (cause.non_retryable or cause.type == WEBHOOK_REFUSED)
    return str(cause or failure), True


@workflow.defn(name=EVENT_DELIVERY_WORKFLOW)
class EventDeliveryWorkflow:
    @workflow.run
    async def run(self, delivery: EventDelivery) -> DeliveryAttempt:
        workflow.upsert_search_attributes([ACCOUNT_ID.value_set(delivery.account_id)])
        if workflow.patched(BOUNDED_DELIVERY):
            attempt = await self._until_accepted(delivery)
        else:
            attempt = await self._post(delivery)
        if attempt.sent:
            ended, outcome = "delivered", f"answered {attempt.status_code}"
        elif attempt.failure is not None:
            ended, outcome = "failed", attempt.failure
        else:
            ended, outcome = "dropped: no webhook", "no webhook: dropped"
        await workflow.execute_activity_method(
            EventActivities.record_delivery,
            DeliveryRecord(
                event_id=delivery.event_id,
                sent=attempt.sent,
                at=workflow.now(),
                round=delivery.round,
                failure=attempt.failure,
            ),
            summary=ended,
            **DATABASE_WRITE,
        )
        workflow.set_current_details(f"Event {delivery.event_id} {ended}: {outcome}.")
        return attempt

    async def _until_accepted(self, delivery: EventDelivery) -> DeliveryAttempt:
        """POST until a 2xx, a refusal for good, or the end of the retry bound."""
        give_up_at = workflow.now() + delivery.retry_for
        number = 0
        while True:
            number += 1
            workflow.set_current_details(
                f"Delivering event {delivery.event_id}: attempt {number}, "
                f"retried until 2xx or {give_up_at:%Y-%m-%d %H:%M} UTC."
            )
            try:
                return await workflow.execute_activity_method(
                    EventActivities.post_event,
                    delivery.model_copy(update={"attempt": number}),
                    summary=f"POST {delivery.event_id} (attempt {number})",
                    **WEBHOOK_ATTEMPT,
                )
            except ActivityError as failure:
                error, worth_retrying = _last_error(failure)
            wait = delivery_backoff(number)
            if not worth_retrying:
                return DeliveryAttempt(sent=False, failure=error)
            if workflow.now() + wait > give_up_at:
                return DeliveryAttempt(
                    sent=False,
                    failure=f"No 2xx in {number} attempts over {delivery.retry_for}; "
                    f"the last: {error}",
                )
            await workflow.sleep(wait, summary=f"retry in {wait}")

    async def _post(self, delivery: EventDelivery) -> DeliveryAttempt:
        """A history from before the bound: one activity call, retried by Temporal."""
        try:
            return await workflow.execute_activity_method(
                EventActivities.post_event,
                delivery,
                summary=f"POST {delivery.event_id}",
                **WEBHOOK_ATTEMPT,
            )
        except ActivityError as failure:
            return DeliveryAttempt(sent=False, failure=_last_error(failure)[0])


@workflow.defn(name=EVENT_SWEEP_WORKFLOW)
class EventSweepWorkflow:
    @workflow.run
    async def run(self) -> SweepReport:
        return await workflow.execute_activity_method(
            EventActivities.sweep,
            summary="start deliveries and top-ups left waiting",
            **SWEEP_STARTS,
        )

"""Webhook delivery of one event (``SmsEventDelivery``), and the sweep (``SmsEventSweep``)
that starts whatever a lost start left behind.

A workflow per event keeps every history a few events long. The POST is retried with
backoff until the receiver answers 2xx (``WEBHOOK_CALL``), then the event is marked
delivered; receivers dedupe by ``event_id``.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.events import EventActivities
    from boundary.options import DATABASE_WRITE, TEMPORAL_CALL, WEBHOOK_CALL
    from contracts.events import (
        EVENT_DELIVERY_WORKFLOW,
        EVENT_SWEEP_WORKFLOW,
        DeliveryAttempt,
        DeliveryRecord,
        EventDelivery,
        SweepReport,
    )
    from workflows.search_attributes import ACCOUNT_ID


@workflow.defn(name=EVENT_DELIVERY_WORKFLOW)
class EventDeliveryWorkflow:
    @workflow.run
    async def run(self, delivery: EventDelivery) -> DeliveryAttempt:
        workflow.upsert_search_attributes([ACCOUNT_ID.value_set(delivery.account_id)])
        workflow.set_current_details(
            f"Delivering event {delivery.event_id} to the account's webhook (retried until 2xx)."
        )
        attempt = await workflow.execute_activity_method(
            EventActivities.post_event,
            delivery,
            summary=f"POST {delivery.event_id}",
            **WEBHOOK_CALL,
        )
        await workflow.execute_activity_method(
            EventActivities.record_delivery,
            DeliveryRecord(event_id=delivery.event_id, sent=attempt.sent, at=workflow.now()),
            summary="delivered" if attempt.sent else "dropped: no webhook",
            **DATABASE_WRITE,
        )
        outcome = f"answered {attempt.status_code}" if attempt.sent else "no webhook: dropped"
        workflow.set_current_details(f"Event {delivery.event_id}: {outcome}.")
        return attempt


@workflow.defn(name=EVENT_SWEEP_WORKFLOW)
class EventSweepWorkflow:
    @workflow.run
    async def run(self) -> SweepReport:
        return await workflow.execute_activity_method(
            EventActivities.sweep,
            summary="start deliveries and top-ups left waiting",
            **TEMPORAL_CALL,
        )

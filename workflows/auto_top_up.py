"""One auto top-up (``SmsAutoTopUp``), started for the row a debit claimed:
charge it once (key from the row) → settle (grant, or turn auto top-up off) →
start the deliveries of the events it wrote. It never claims another: only a debit
can, under the caps (``store.balance_watch``)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.auto_top_up import AutoTopUpActivities
    from activities.events import EventActivities
    from boundary.options import DATABASE_WRITE, GATEWAY_CALL, TEMPORAL_CALL
    from contracts.events import AUTO_TOP_UP_WORKFLOW, TopUpOutcome, TopUpSettlement, TopUpStart
    from domain.money import format_money
    from workflows.search_attributes import ACCOUNT_ID


@workflow.defn(name=AUTO_TOP_UP_WORKFLOW)
class AutoTopUpWorkflow:
    @workflow.run
    async def run(self, start: TopUpStart) -> TopUpOutcome:
        workflow.upsert_search_attributes([ACCOUNT_ID.value_set(start.account_id)])
        workflow.set_current_details(f"Charging auto top-up {start.top_up_id}.")
        capture = await workflow.execute_activity_method(
            AutoTopUpActivities.capture_top_up,
            start,
            summary=f"charge {start.top_up_id}",
            **GATEWAY_CALL,
        )
        money = format_money(capture.amount_minor, capture.currency)
        outcome = await workflow.execute_activity_method(
            AutoTopUpActivities.settle_auto_top_up,
            TopUpSettlement(top_up_id=start.top_up_id, capture=capture, at=workflow.now()),
            summary=f"grant {money} of credits" if capture.succeeded else "declined: turn off",
            **DATABASE_WRITE,
        )
        await workflow.execute_activity_method(
            EventActivities.dispatch_events,
            start.account_id,
            summary="deliver its events",
            **TEMPORAL_CALL,
        )
        workflow.set_current_details(
            f"Auto top-up {start.top_up_id} {outcome.status.value}: {money}, "
            f"{outcome.credits:,} credits; balance {outcome.balance:,}."
        )
        return outcome

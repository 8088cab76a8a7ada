"""The reconciler's Temporal schedule, created or brought up to date by every worker."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow

from config.schedules import every, keep_schedule
from config.settings import Settings
from contracts.reconciler import RECONCILER_SCHEDULE, RECONCILER_WORKFLOW, ReconcileRequest


def reconciler_schedule(settings: Settings) -> Schedule:
    return every(
        timedelta(seconds=settings.sms_reconciler_every_seconds),
        ScheduleActionStartWorkflow(
            RECONCILER_WORKFLOW,
            ReconcileRequest(
                grace_seconds=settings.sms_reconciler_grace_seconds,
                quote_ttl_seconds=settings.sms_quote_ttl_seconds,
            ),
            id=f"{RECONCILER_SCHEDULE}-pass",
            task_queue=settings.sms_task_queue,
            static_summary=(
                "reconciler: settle what lost workflows left unfinished "
                f"{settings.sms_reconciler_grace_seconds} s past its deadline"
            ),
        ),
    )


async def ensure_reconciler(client: Client, settings: Settings) -> None:
    """Keep the reconciler's schedule as the settings say (creating it twice is harmless)."""
    await keep_schedule(client, RECONCILER_SCHEDULE, reconciler_schedule(settings))

"""The payment janitor's Temporal schedule, created or brought up to date by the worker."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
)

from config.schedules import every, keep_schedule
from config.settings import Settings
from contracts.payment_janitor import (
    PAYMENT_JANITOR_SCHEDULE,
    PAYMENT_JANITOR_WORKFLOW,
    JanitorRequest,
)


def janitor_schedule(settings: Settings) -> Schedule:
    return every(
        timedelta(seconds=settings.sms_payment_janitor_every_seconds),
        ScheduleActionStartWorkflow(
            PAYMENT_JANITOR_WORKFLOW,
            JanitorRequest(older_than_seconds=settings.sms_payment_janitor_after_seconds),
            id=f"{PAYMENT_JANITOR_SCHEDULE}-sweep",
            task_queue=settings.sms_task_queue,
            static_summary=(
                "payment janitor: settle payments pending over "
                f"{settings.sms_payment_janitor_after_seconds} s"
            ),
        ),
    )


async def ensure_payment_janitor(client: Client, settings: Settings) -> None:
    """With a real payment provider, keep the janitor's schedule as the settings say
    (every worker calls this; creating twice is harmless). The sandbox needs none."""
    if settings.sms_payment_gateway == "sandbox":
        return
    await keep_schedule(client, PAYMENT_JANITOR_SCHEDULE, janitor_schedule(settings))

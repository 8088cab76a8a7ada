"""The event sweep's Temporal schedule, created or brought up to date by every worker."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
)

from config.schedules import every, keep_schedule
from config.settings import Settings
from contracts.events import EVENT_SWEEP_SCHEDULE, EVENT_SWEEP_WORKFLOW


def event_sweep_schedule(settings: Settings) -> Schedule:
    return every(
        timedelta(seconds=settings.sms_event_sweep_seconds),
        ScheduleActionStartWorkflow(
            EVENT_SWEEP_WORKFLOW,
            id=f"{EVENT_SWEEP_SCHEDULE}-run",
            task_queue=settings.sms_task_queue,
        ),
    )


async def ensure_event_sweep(client: Client, settings: Settings) -> None:
    """Keep the sweep's schedule as the settings say (creating it twice is harmless)."""
    await keep_schedule(client, EVENT_SWEEP_SCHEDULE, event_sweep_schedule(settings))

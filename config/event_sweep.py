"""The event sweep's Temporal schedule, created or brought up to date by every worker."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from config.settings import Settings
from domain.events import EVENT_SWEEP_SCHEDULE, EVENT_SWEEP_WORKFLOW


def event_sweep_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            EVENT_SWEEP_WORKFLOW,
            id=f"{EVENT_SWEEP_SCHEDULE}-run",
            task_queue=settings.sms_task_queue,
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(seconds=settings.sms_event_sweep_seconds))
            ]
        ),
        # A sweep still running when the next is due: skip, the next one catches up.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_event_sweep(client: Client, settings: Settings) -> None:
    """Keep the sweep's schedule as the settings say (creating it twice is harmless)."""
    schedule = event_sweep_schedule(settings)
    try:
        await client.create_schedule(EVENT_SWEEP_SCHEDULE, schedule)
    except ScheduleAlreadyRunningError:

        def _replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(EVENT_SWEEP_SCHEDULE).update(_replace)

"""The payment janitor's Temporal schedule, created or brought up to date by the worker."""

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
from domain.payment_janitor import (
    PAYMENT_JANITOR_SCHEDULE,
    PAYMENT_JANITOR_WORKFLOW,
    JanitorRequest,
)


def janitor_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PAYMENT_JANITOR_WORKFLOW,
            JanitorRequest(older_than_seconds=settings.sms_payment_janitor_after_seconds),
            id=f"{PAYMENT_JANITOR_SCHEDULE}-sweep",
            task_queue=settings.sms_task_queue,
            static_summary=(
                "payment janitor: settle payments pending over "
                f"{settings.sms_payment_janitor_after_seconds} s"
            ),
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(
                    every=timedelta(seconds=settings.sms_payment_janitor_every_seconds)
                )
            ]
        ),
        # A sweep still running when the next is due: skip, the next one catches up.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_payment_janitor(client: Client, settings: Settings) -> None:
    """With a real payment provider, keep the janitor's schedule as the settings say
    (every worker calls this; creating twice is harmless). The sandbox needs none."""
    if settings.sms_payment_gateway == "sandbox":
        return
    schedule = janitor_schedule(settings)
    try:
        await client.create_schedule(PAYMENT_JANITOR_SCHEDULE, schedule)
    except ScheduleAlreadyRunningError:

        def _replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(PAYMENT_JANITOR_SCHEDULE).update(_replace)

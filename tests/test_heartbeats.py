"""Activities someone waits on (``boundary.options.waited_on``) heartbeat from the
worker's interceptor: a slow one is not mistaken for a dead one, and one lost with its
worker is retried once its heartbeat timeout passes (the purchase drills in
tests/test_fault_drills.py check that from the history of a real killed worker)."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.worker import Worker

from boundary.interceptor import ActivityErrorMapping
from boundary.options import DATABASE_WRITE, HEARTBEAT_TIMEOUT, waited_on

# Longer than the heartbeat timeout: without heartbeats the first attempt would time out.
SLOW_STEP = HEARTBEAT_TIMEOUT * 2


@activity.defn(name="slow_step")
def slow_step() -> int:
    time.sleep(SLOW_STEP.total_seconds())
    return activity.info().attempt


@workflow.defn(name="WaitedOnStep", sandboxed=False)
class WaitedOnStep:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity(slow_step, **waited_on(DATABASE_WRITE))


def test_waited_on_adds_only_a_heartbeat_timeout():
    options = waited_on(DATABASE_WRITE)
    assert options["heartbeat_timeout"] == HEARTBEAT_TIMEOUT
    assert {k: v for k, v in options.items() if k != "heartbeat_timeout"} == DATABASE_WRITE
    assert "heartbeat_timeout" not in DATABASE_WRITE  # background work sends none


async def test_a_slow_waited_on_step_heartbeats_and_completes_on_its_first_attempt(dev_env):
    queue = f"heartbeats-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(2) as threads:
        async with Worker(
            dev_env.client,
            task_queue=queue,
            workflows=[WaitedOnStep],
            activities=[slow_step],
            activity_executor=threads,
            interceptors=[ActivityErrorMapping()],
        ):
            handle = await dev_env.client.start_workflow(
                WaitedOnStep.run, id=f"heartbeats-{uuid.uuid4().hex}", task_queue=queue
            )
            assert await asyncio.wait_for(handle.result(), 30) == 1
    started = [
        event.activity_task_started_event_attributes
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert [s.attempt for s in started] == [1]

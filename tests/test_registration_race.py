"""A resubmit that arrives in the same moment the correction window closes is
honoured, never stranded (the run used to return with the update still open)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import worker
from application.registration import registration_start
from contracts.registration import CarrierDecision, RegistrationStep
from domain.enums import RegistrationStatus, Role
from domain.registration import RegistrationDetails
from tests.registration_support import DETAILS
from tests.support import (
    activity_deps,
    create_account,
    create_user,
    running_worker,
    settings_for,
)
from workflows.registration import A2pRegistrationWorkflow


async def test_a_resubmit_racing_the_window_is_honoured(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    env, now = time_skipping_env, datetime.now(UTC)
    account_id = f"race-{uuid.uuid4().hex[:8]}"
    settings = settings_for(sqlite_url, sms_carrier="external", sms_registration_timeout_days=1.0)
    create_account(sqlite_sessions, account_id, anchor=date(2026, 1, 1), now=now)
    create_user(sqlite_sessions, account_id, "ana", role=Role.PRIMARY_ADMIN, now=now)
    details = RegistrationDetails.model_validate(DETAILS)
    queue = settings.sms_task_queue
    # No cache, so no sticky queue: the next task goes to whichever worker polls next.
    deps = activity_deps(env.client, sqlite_sessions)
    async with worker.build_worker(env.client, deps, queue, max_cached_workflows=0):
        handle = await env.client.start_workflow(
            A2pRegistrationWorkflow.run,
            registration_start(settings, account_id, details, 1),
            id=f"a2p-10dlc:{account_id}",
            task_queue=queue,
        )
        await handle.execute_update(A2pRegistrationWorkflow.submitted)
        await handle.signal(
            A2pRegistrationWorkflow.decide,
            CarrierDecision(step=RegistrationStep.BRAND, approved=False, reason="bad EIN"),
        )
        for _ in range(100):
            if (await handle.query(A2pRegistrationWorkflow.state)).status is (
                RegistrationStatus.FAILED
            ):
                break
            await asyncio.sleep(0.05)
    # No worker now: the window's timer fires, and the resubmit arrives with it; the
    # next worker sees both in one workflow task.
    await env.sleep(timedelta(days=1, seconds=1))
    resubmit = asyncio.create_task(handle.execute_update(A2pRegistrationWorkflow.resubmit, details))
    await asyncio.sleep(0.5)
    async with running_worker(env.client, sqlite_sessions, queue):
        state = await asyncio.wait_for(resubmit, 30)
        assert state.submission == 2
        assert state.status is RegistrationStatus.BRAND_PENDING
        await handle.terminate("test finished")

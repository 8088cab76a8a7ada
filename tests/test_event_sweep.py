"""The event sweep starts what activities wrote (a purchase's receipt mail, a renewal's)
spread over its interval, not all at once, in one attempt: a batch slower than a single
Temporal call is neither cut short nor started a second time beside itself. On the real
dev server, in real time."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from temporalio.api.enums.v1 import EventType

import worker
from activities.events import SWEEP_SPREAD
from boundary.options import TEMPORAL_CALL
from contracts.mail import mail_workflow_id
from domain.mail import MailKind
from store.db import transaction
from store.mail import queue_mail
from tests.event_support import active_account
from tests.support import activity_deps
from workflows.event_delivery import EventSweepWorkflow

MAILS = 8
# Spread over 0.8 of this: one start a second, the batch longer than one Temporal call's
# start-to-close (the sweep's timeout before).
EVERY = timedelta(seconds=10)
GAP = EVERY * SWEEP_SPREAD / MAILS


async def test_a_sweep_spreads_its_starts_in_one_attempt(dev_env, sqlite_sessions):
    now = datetime.now(UTC)
    account = active_account(sqlite_sessions, 10, now)
    with transaction(sqlite_sessions) as session:
        mail_ids = [
            queue_mail(
                session,
                account_id=account.account_id,
                kind=MailKind.LOW_BALANCE,
                reference=f"crossing-{n}",
                data={"balance": n, "threshold": 100},
                at=now,
            ).mail_id
            for n in range(MAILS)
        ]
    queue = f"sweep-{uuid.uuid4().hex[:8]}"
    deps = dataclasses.replace(
        activity_deps(dev_env.client, sqlite_sessions), event_sweep_every=EVERY
    )
    async with worker.build_worker(dev_env.client, deps, queue):
        handle = await dev_env.client.start_workflow(
            EventSweepWorkflow.run, id=f"sweep-{uuid.uuid4().hex}", task_queue=queue
        )
        report = await asyncio.wait_for(handle.result(), 60)
        starts = sorted(
            [
                (await dev_env.client.get_workflow_handle(workflow_id).describe()).start_time
                for workflow_id in (mail_workflow_id(account.account_id, m) for m in mail_ids)
            ]
        )
    assert report.mails_started == MAILS
    gaps = [later - earlier for earlier, later in pairwise(starts)]
    assert min(gaps) >= GAP * 0.8, gaps
    assert starts[-1] - starts[0] > TEMPORAL_CALL["start_to_close_timeout"]
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert attempts == [1]

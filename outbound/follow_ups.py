"""Starting the workflows a committed write asked for (a webhook delivery, an auto
top-up), from the API after its commit or from an activity. Keyed by workflow id: a
start of one already running changes nothing, and a completed one is not run again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts.events import (
    AUTO_TOP_UP_WORKFLOW,
    DEFAULT_DELIVERY_RETRY,
    EVENT_DELIVERY_WORKFLOW,
    EventDelivery,
    TopUpStart,
    delivery_workflow_id,
    top_up_workflow_id,
)
from store.events import FollowUp


async def start_follow_ups(
    client: Client,
    task_queue: str,
    items: Sequence[FollowUp],
    delivery_retry: timedelta = DEFAULT_DELIVERY_RETRY,
) -> int:
    """Start the workflow of each follow-up; one already running is left alone, one that
    completed is not started again (its record is settled). A delivery is retried for
    ``delivery_retry`` (SMS_WEBHOOK_RETRY_DAYS). Returns how many started."""
    started = 0
    for item in items:
        if item.kind == "event":
            name, workflow_id = (
                EVENT_DELIVERY_WORKFLOW,
                delivery_workflow_id(item.account_id, item.record_id, item.round),
            )
            arg: Any = EventDelivery(
                account_id=item.account_id,
                event_id=item.record_id,
                round=item.round,
                retry_for=delivery_retry,
            )
        else:
            name, workflow_id = (
                AUTO_TOP_UP_WORKFLOW,
                top_up_workflow_id(item.account_id, item.record_id),
            )
            arg = TopUpStart(account_id=item.account_id, top_up_id=item.record_id)
        try:
            await client.start_workflow(
                name,
                arg,
                id=workflow_id,
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )
        except WorkflowAlreadyStartedError:
            continue
        started += 1
    return started

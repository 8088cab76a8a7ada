"""Starting the workflows a committed write asked for (a webhook delivery, an auto
top-up, a mail), from the API after its commit or from an activity. Keyed by workflow id: a
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
from contracts.mail import MAIL_DELIVERY_WORKFLOW, MailDelivery, mail_workflow_id
from store.events import FollowUp


async def start_follow_ups(
    client: Client,
    task_queue: str,
    items: Sequence[FollowUp],
    delivery_retry: timedelta = DEFAULT_DELIVERY_RETRY,
) -> int:
    """Start the workflow of each follow-up; one already running is left alone, one that
    completed is not started again (but see ``_reuse``). A delivery is retried for
    ``delivery_retry`` (SMS_WEBHOOK_RETRY_DAYS). Returns how many started."""
    started = 0
    for item in items:
        name, workflow_id, arg = _workflow_of(item, delivery_retry)
        try:
            await client.start_workflow(
                name,
                arg,
                id=workflow_id,
                task_queue=task_queue,
                id_reuse_policy=_reuse(item),
            )
        except WorkflowAlreadyStartedError:
            continue
        started += 1
    return started


def _reuse(item: FollowUp) -> WorkflowIDReusePolicy:
    """Mail gets a new run whenever its message is pending, so one an operator put back
    to pending (docs/runbook.md, "A mail failed") is sent again; safe, as a send reads
    the row first and sends only a pending message. Any other completed workflow is
    not run again (its record is settled)."""
    if item.kind == "mail":
        return WorkflowIDReusePolicy.ALLOW_DUPLICATE
    return WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY


def _workflow_of(item: FollowUp, delivery_retry: timedelta) -> tuple[str, str, Any]:
    """The workflow's name, id and argument for ``item``."""
    account_id, record_id = item.account_id, item.record_id
    if item.kind == "event":
        return (
            EVENT_DELIVERY_WORKFLOW,
            delivery_workflow_id(account_id, record_id, item.round),
            EventDelivery(
                account_id=account_id,
                event_id=record_id,
                round=item.round,
                retry_for=delivery_retry,
            ),
        )
    if item.kind == "mail":
        return (
            MAIL_DELIVERY_WORKFLOW,
            mail_workflow_id(account_id, record_id),
            MailDelivery(account_id=account_id, mail_id=record_id),
        )
    return (
        AUTO_TOP_UP_WORKFLOW,
        top_up_workflow_id(account_id, record_id),
        TopUpStart(account_id=account_id, top_up_id=record_id),
    )

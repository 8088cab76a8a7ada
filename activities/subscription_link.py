"""How a completed purchase reaches the account's subscription workflow."""

from __future__ import annotations

from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy

from activities.deps import ActivityDeps
from boundary.options import WORKFLOW_TASK_TIMEOUT
from contracts.subscription import (
    ALLOTMENT_CHANGED_SIGNAL,
    SUBSCRIPTION_WORKFLOW,
    AllotmentChanged,
    SubscriptionStart,
    subscription_workflow_id,
)


def subscription_summary(account_id: str, purchase_id: str) -> str:
    """The subscription's static summary; its details line carries the amounts."""
    return f"{account_id}: SMS add-on subscription, activated by purchase {purchase_id}"


class SubscriptionLinkActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._client = deps.client

    @activity.defn
    async def start_subscription(self, start: SubscriptionStart) -> None:
        """Start the account's subscription workflow. Idempotent by the workflow id
        ``sms-subscription:{account_id}``: a retry finds the running one."""
        await self._client.start_workflow(
            SUBSCRIPTION_WORKFLOW,
            start,
            id=subscription_workflow_id(start.account_id),
            static_summary=subscription_summary(start.account_id, start.purchase_id),
            task_queue=activity.info().task_queue,
            task_timeout=WORKFLOW_TASK_TIMEOUT,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )

    @activity.defn
    async def notify_allotment_changed(self, change: AllotmentChanged) -> None:
        """Tell the subscription a pack raised the allotment (signal-with-start, so a
        subscription that is somehow not running is started). Safe to repeat: the
        subscription re-reads the allotment, keyed by the purchase id."""
        await self._client.start_workflow(
            SUBSCRIPTION_WORKFLOW,
            SubscriptionStart(account_id=change.account_id, purchase_id=change.purchase_id),
            id=subscription_workflow_id(change.account_id),
            static_summary=subscription_summary(change.account_id, change.purchase_id),
            task_queue=activity.info().task_queue,
            task_timeout=WORKFLOW_TASK_TIMEOUT,
            start_signal=ALLOTMENT_CHANGED_SIGNAL,
            start_signal_args=[change],
        )

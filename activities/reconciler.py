"""The reconciler's side effects: find what lost workflows left behind, and settle
each finding the way its own workflow would have (docs/runbook.md "Reconciler").

Every action is keyed by its record, so one repeated (a retry, the next run) changes
nothing twice: a subscription starts by its workflow id, a refund request's workflow
by its id, and a release only frees a request still ``requested`` (a purchase:
``activities/unfinished_purchase.py``). Each action counts itself in
``sms_reconciler_actions_total{action}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from activities.deps import ActivityDeps
from activities.subscription_link import SubscriptionLinkActivities
from activities.unfinished_purchase import UnfinishedPurchaseActivities
from boundary.options import WORKFLOW_TASK_TIMEOUT
from contracts.operator import OPERATOR_REFUND_WORKFLOW, operator_refund_workflow_id
from contracts.purchase import purchase_workflow_id
from contracts.reconciler import (
    Findings,
    ReconcilerAction,
    ReconcileRequest,
    StuckPurchase,
    StuckRefund,
)
from contracts.subscription import (
    SUBSCRIPTION_WORKFLOW,
    SubscriptionStart,
    subscription_workflow_id,
)
from observability.metrics import reconciler_action
from store.db import read_only, transaction
from store.operator import fail_refund_request
from store.reconciler import (
    deadline_of,
    held_addons,
    is_active,
    requested_refunds,
    unfinished_purchases,
)
from store.subscriptions import current_tier_line

# The purchase a restarted subscription names when its tier line has none on record.
NO_PURCHASE = "reconciler"
RUNNING = WorkflowExecutionStatus.RUNNING
RUNNING_SUBSCRIPTIONS = f'WorkflowType = "{SUBSCRIPTION_WORKFLOW}" AND ExecutionStatus = "Running"'


class ReconcilerActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._client = deps.client
        self._link = SubscriptionLinkActivities(deps)

    # -- finding ------------------------------------------------------------------------

    @activity.defn
    async def find_unfinished(self, request: ReconcileRequest) -> Findings:
        """Read-only: what was left unfinished past its deadline and the grace, with no
        workflow at work on it (one still running is left alone)."""
        candidates = await asyncio.to_thread(self._candidates, request)
        running = {w.id async for w in self._client.list_workflows(RUNNING_SUBSCRIPTIONS)}

        async def kept(account_id: str) -> bool:  # visibility lags: ask the workflow itself
            workflow_id = subscription_workflow_id(account_id)
            return workflow_id in running or await self._status(workflow_id) is RUNNING

        return Findings(
            subscriptions=[s for s in candidates.subscriptions if not await kept(s.account_id)],
            lost_subscriptions=[a for a in candidates.lost_subscriptions if not await kept(a)],
            purchases=[
                p
                for p in candidates.purchases
                if await self._status(purchase_workflow_id(p.account_id, p.purchase_id))
                is not RUNNING
            ],
            refunds=[
                r
                for r in candidates.refunds
                if await self._status(operator_refund_workflow_id(r.account_id, r.request_id))
                is None
            ],
        )

    def _candidates(self, request: ReconcileRequest) -> Findings:
        assert request.at is not None, "the workflow sets the run's now"
        settled_by = request.at - timedelta(seconds=request.grace_seconds)
        quote_ttl = timedelta(seconds=request.quote_ttl_seconds)
        with read_only(self._sessions) as session:
            addons = held_addons(session, settled_by)
            subscriptions = [
                SubscriptionStart(
                    account_id=addon.account_id,
                    purchase_id=getattr(
                        current_tier_line(session, addon.account_id, request.at),
                        "purchase_id",
                        NO_PURCHASE,
                    ),
                )
                for addon in addons
                if is_active(addon)
            ]
            purchases = [
                StuckPurchase(account_id=row.account_id, purchase_id=row.purchase_id, at=request.at)
                for row in unfinished_purchases(session, settled_by - quote_ttl, request.limit)
                if deadline_of(row, quote_ttl) < settled_by
            ]
            refunds = [
                StuckRefund(
                    account_id=row.account_id, request_id=row.id, start=start, at=request.at
                )
                for row, start in requested_refunds(session, settled_by, request.limit)
            ]
        return Findings(
            subscriptions=subscriptions[: request.limit],
            lost_subscriptions=[a.account_id for a in addons if not is_active(a)][: request.limit],
            purchases=purchases,
            refunds=refunds,
        )

    async def _status(self, workflow_id: str) -> WorkflowExecutionStatus | None:
        """The workflow's status; None when there is none (never started, or its
        history is past the namespace's retention)."""
        try:
            described = await self._client.get_workflow_handle(workflow_id).describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return None
            raise
        return described.status

    # -- the add-on's subscription ----------------------------------------------------

    @activity.defn
    async def restart_subscription(self, start: SubscriptionStart) -> ReconcilerAction:
        """Start the subscription of an active add-on again; it loads the add-on from
        the database as at its first start. Keyed by the workflow id."""
        await self._link.start_subscription(start)
        activity.logger.warning("Restarted the subscription of account %s", start.account_id)
        return reconciler_action(ReconcilerAction.SUBSCRIPTION_RESTARTED)

    @activity.defn
    def report_lost_subscription(self, account_id: str) -> ReconcilerAction:
        """A past-due or cancelling add-on without its workflow: its dunning or its end
        lived in the workflow's state, which the database cannot give back."""
        activity.logger.error(
            "The add-on of account %s is held but no subscription keeps it; an operator "
            "must settle it (docs/runbook.md)",
            account_id,
        )
        return reconciler_action(ReconcilerAction.SUBSCRIPTION_LOST)

    # -- an operator refund -----------------------------------------------------------

    @activity.defn
    async def settle_refund_request(self, stuck: StuckRefund) -> ReconcilerAction:
        """Start the refund workflow a request never got (keyed by its workflow id), or
        release a request that can no longer run (its capture is gone)."""
        if stuck.start is None:
            await asyncio.to_thread(self._release, stuck)
            return reconciler_action(ReconcilerAction.REFUND_RELEASED)
        start = stuck.start
        await self._client.start_workflow(
            OPERATOR_REFUND_WORKFLOW,
            start,
            id=operator_refund_workflow_id(start.account_id, start.request_id),
            static_summary=(
                f"{start.account_id}: operator refund of {start.amount_minor} (minor units, "
                f"{start.currency}) of {start.payment_id}, started by the reconciler"
            ),
            task_queue=activity.info().task_queue,
            task_timeout=WORKFLOW_TASK_TIMEOUT,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        return reconciler_action(ReconcilerAction.REFUND_STARTED)

    def _release(self, stuck: StuckRefund) -> None:
        with transaction(self._sessions) as session:
            fail_refund_request(session, stuck.request_id, stuck.at)


def reconciler_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    reconciler = ReconcilerActivities(deps)
    return [
        UnfinishedPurchaseActivities(deps).settle_unfinished_purchase,
        reconciler.find_unfinished,
        reconciler.restart_subscription,
        reconciler.report_lost_subscription,
        reconciler.settle_refund_request,
    ]

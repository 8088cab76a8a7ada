"""The reconciler's messages: what one run looks for, what it found, and what it did.

A run (``SmsReconciler``, started by the ``sms-reconciler`` schedule) settles what a
lost workflow left behind: an active add-on without its subscription workflow, a
purchase left unfinished past its deadline, an operator refund whose workflow never
started (docs/runbook.md "Reconciler")."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from contracts.operator import OperatorRefundStart
from contracts.subscription import SubscriptionStart

RECONCILER_WORKFLOW = "SmsReconciler"
RECONCILER_SCHEDULE = "sms-reconciler"


class ReconcilerAction(StrEnum):
    """What a run did about one finding (``sms_reconciler_actions_total{action}``)."""

    SUBSCRIPTION_RESTARTED = "subscription_restarted"  # an active add-on had none running
    SUBSCRIPTION_LOST = "subscription_lost"  # past due or cancelling: an operator's call
    PURCHASE_EXPIRED = "purchase_expired"  # a quote nobody confirmed; nothing charged
    PURCHASE_FAILED = "purchase_failed"  # confirmed, nothing captured
    PURCHASE_REFUNDED = "purchase_refunded"  # captured, never granted: refunded
    PURCHASE_NEEDS_ATTENTION = "purchase_needs_attention"  # captured, the refund failed
    REFUND_STARTED = "refund_started"  # an operator refund whose workflow never ran
    REFUND_RELEASED = "refund_released"  # one that can no longer run: its amount freed


class ReconcileRequest(BaseModel):
    """Look for what was left unfinished for longer than ``grace_seconds`` past its
    deadline (a purchase's: its quote's expiry, at most ``quote_ttl_seconds`` after it
    was created); ``at``: the run's now, set by the workflow."""

    grace_seconds: int = Field(gt=0)
    quote_ttl_seconds: int = Field(gt=0)
    limit: int = Field(default=50, gt=0)  # of each kind per run; the next run takes the rest
    at: datetime | None = None


class StuckPurchase(BaseModel):
    account_id: str
    purchase_id: str
    at: datetime


class StuckRefund(BaseModel):
    account_id: str
    request_id: int
    start: OperatorRefundStart | None  # None: its capture is gone, it can only be released
    at: datetime


class Findings(BaseModel):
    """What a run found, each with its workflow confirmed not running."""

    subscriptions: list[SubscriptionStart] = []
    lost_subscriptions: list[str] = []  # account ids
    purchases: list[StuckPurchase] = []
    refunds: list[StuckRefund] = []


class ReconcilerReport(BaseModel):
    actions: dict[ReconcilerAction, int] = {}
    left: int = 0  # findings whose settlement failed this time; the next run retries

    def count(self, action: ReconcilerAction | None) -> None:
        if action is not None:
            self.actions[action] = self.actions.get(action, 0) + 1

    def summary(self) -> str:
        done = ", ".join(f"{n} {action.value}" for action, n in sorted(self.actions.items()))
        return f"{done or 'nothing to do'}; {self.left} left for the next run"

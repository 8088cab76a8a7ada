"""Activities: every side effect of the workflows (database, payments, Temporal calls).

Each activity is safe to retry and its docstring names the key that makes it so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.auto_top_up import auto_top_up_activities
from activities.deps import ActivityDeps
from activities.events import event_activities
from activities.mail import mail_activities
from activities.operator import operator_activities
from activities.payment_janitor import payment_janitor_activities
from activities.purchase import PurchaseActivities
from activities.reconciler import reconciler_activities
from activities.registration import registration_activities
from activities.subscription import subscription_activities
from activities.subscription_link import SubscriptionLinkActivities


def all_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """Every activity the worker registers, bound to its dependencies."""
    purchase = PurchaseActivities(deps)
    link = SubscriptionLinkActivities(deps)
    activities: list[Callable[..., Any]] = [
        purchase.check_permission,
        purchase.quote_purchase,
        purchase.claim_item,
        purchase.record_purchase,
        purchase.capture_payment,
        purchase.find_capture,
        purchase.grant_purchase,
        purchase.refund_payment,
        link.start_subscription,
        link.notify_allotment_changed,
        *registration_activities(deps),
        *subscription_activities(deps),
        *payment_janitor_activities(deps),
        *operator_activities(deps),
        *event_activities(deps),
        *auto_top_up_activities(deps),
        *mail_activities(deps),
        *reconciler_activities(deps),
    ]
    return activities

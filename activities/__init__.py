"""Activities: every side effect of the workflows (database, payments, Temporal calls).

Each activity is safe to retry and its docstring names the key that makes it so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.deps import ActivityDeps
from activities.subscription_link import SubscriptionLinkActivities


def all_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """Every activity the worker registers, bound to its dependencies."""
    link = SubscriptionLinkActivities(deps)
    activities: list[Callable[..., Any]] = [
        link.start_subscription,
        link.notify_allotment_changed,
    ]
    return activities

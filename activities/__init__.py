"""Activities: every side effect of the workflows (database, payments, Temporal calls).

Each activity is safe to retry and its docstring names the key that makes it so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.deps import ActivityDeps


def all_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """Every activity the worker registers, bound to its dependencies."""
    activities: list[Callable[..., Any]] = []
    return activities

"""The payment janitor's side effect: settle stale payments against the provider."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from contracts.payment_janitor import JanitorReport, JanitorRequest
from payments.gateway import SettlesStale


class PaymentJanitorActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._gateway = deps.gateway

    @activity.defn
    def settle_stale_payments(self, request: JanitorRequest) -> JanitorReport:
        """Settle payments pending longer than ``request.older_than_seconds`` (wall clock)
        from what the provider knows. Safe to repeat: every write is conditional on the
        payment still being pending, and the janitor never moves money. The sandbox
        answers at once, so with it there is never anything to do."""
        if not isinstance(self._gateway, SettlesStale):
            return JanitorReport()
        report = self._gateway.settle_stale(
            now=datetime.now(UTC),
            older_than=timedelta(seconds=request.older_than_seconds),
            limit=request.limit,
        )
        if report.examined:
            activity.logger.info("payment janitor: %s", report.model_dump_json())
        return report


def payment_janitor_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    return [PaymentJanitorActivities(deps).settle_stale_payments]

"""A database outage never ends a subscription: at its start and at a renewal the read
of the add-on is waited out on durable timers, however long the outage lasts, and a
message meanwhile is refused at once with 503 ``service_unavailable`` (never 500).

On the time-skipping server, so that the outage can outlast every retry budget (the
real-time drill is tests/test_outage_drill_database.py); the read is a stand-in that fails as
the database driver does while ``down`` is set.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.exc import OperationalError
from temporalio import activity
from temporalio.api.enums.v1 import WorkflowExecutionStatus

import worker
from activities.subscription import SubscriptionActivities
from contracts.subscription import AddonSnapshot
from domain.enums import AddonStatus
from tests.invariants import check_money
from tests.operator_support import admin_post
from tests.subscription_support import TIER, Subscription, subscribed, task_queue
from tests.support import activity_deps, api_client, keep_history, settings_for

# Longer than any one read's budget (READ_CHECK: 20 s) many times over.
OUTAGE = timedelta(minutes=30)


class DatabaseDown:
    """The add-on's read, failing as the driver does while the database is down."""

    def __init__(self, real: SubscriptionActivities) -> None:
        self.real = real
        self.down = threading.Event()
        self.reads_refused = 0

    @activity.defn(name="load_addon_snapshot")
    def load_addon_snapshot(self, account_id: str) -> AddonSnapshot | None:
        if self.down.is_set():
            self.reads_refused += 1
            raise OperationalError("SELECT accounts", {}, Exception("connection refused"))
        return self.real.load_addon_snapshot(account_id)


async def assert_running(sub: Subscription) -> None:
    description = await sub.handle.describe()
    assert description.raw_description.workflow_execution_info.status == (
        WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
    )


async def refused_meanwhile(api, sub: Subscription) -> None:
    """An operator's cancel reaches the workflow and is refused at once: 503."""
    cancel = {"when": "period_end", "reason": "during the outage"}
    refused = await admin_post(api, sub.account_id, "/addon/cancel", cancel, "during-outage")
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "service_unavailable"
    assert "database is not answering" in refused.json()["error"]["message"]


async def test_an_outage_at_the_start_is_waited_out(time_skipping_env, sqlite_sessions, sqlite_url):
    env, queue = time_skipping_env, task_queue()
    deps = activity_deps(env.client, sqlite_sessions)
    database = DatabaseDown(SubscriptionActivities(deps))
    database.down.set()
    async with (
        subscribed(env, sqlite_sessions, "db-start", queue=queue, with_worker=False) as sub,
        worker.build_worker(env.client, deps, queue, stand_ins=[database.load_addon_snapshot]),
        api_client(settings_for(sqlite_url), env.client) as api,
    ):
        await sub.advance_to(sub.activated_at + OUTAGE)
        await assert_running(sub)
        assert database.reads_refused > 0
        await refused_meanwhile(api, sub)

        database.down.clear()
        await sub.advance_to(sub.activated_at + 2 * OUTAGE)
        state = await sub.state()
        await keep_history(sub.handle, "subscription/database-outage/at_start")
        await sub.after_boundary(1)  # and it goes on renewing
        assert sub.balance() == TIER.credits_per_month
    assert state.status is AddonStatus.ACTIVE
    check_money(sqlite_sessions, sub.account_id)


async def test_an_outage_at_a_renewal_is_waited_out(time_skipping_env, sqlite_sessions, sqlite_url):
    env, queue = time_skipping_env, task_queue()
    deps = activity_deps(env.client, sqlite_sessions)
    database = DatabaseDown(SubscriptionActivities(deps))
    async with (
        subscribed(env, sqlite_sessions, "db-renewal", queue=queue, with_worker=False) as sub,
        worker.build_worker(env.client, deps, queue, stand_ins=[database.load_addon_snapshot]),
        api_client(settings_for(sqlite_url), env.client) as api,
    ):
        await sub.advance_to(sub.boundary(1) - timedelta(hours=1))
        assert (await sub.state()).status is AddonStatus.ACTIVE
        database.down.set()
        await sub.advance_to(sub.boundary(1) + OUTAGE)
        await assert_running(sub)
        assert database.reads_refused > 0
        assert (await sub.state()).month == sub.month(0)  # not renewed, not ended
        await refused_meanwhile(api, sub)

        database.down.clear()
        await sub.advance_to(sub.boundary(1) + 2 * OUTAGE)
        state = await sub.state()
        await keep_history(sub.handle, "subscription/database-outage/at_renewal")
    assert (state.status, state.month) == (AddonStatus.ACTIVE, sub.month(1))
    assert sub.balance() == TIER.credits_per_month
    check_money(sqlite_sessions, sub.account_id)

"""The typed boundary between Temporal and the rest (issue: one typed boundary): each
defect the hand-written seam hid, shown failing before and passing now."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ActivityError, RetryState

import worker
from activities.purchase import PurchaseActivities
from boundary.errors import error_code_of, refusal_details, to_application_error
from contracts.purchase import GrantRequest
from contracts.subscription import (
    BILLING_CYCLE_CHANGED_SIGNAL,
    CANCEL_UPDATE,
    BillingCycleChanged,
    CancelAddon,
)
from domain import pricing
from domain.enums import AddonStatus, BillingCycle
from domain.errors import ErrorCode
from payments.gateway import GatewayRejected
from store.db import transaction
from store.models import AddonSubscription, Purchase
from tests.invariants import check_money
from tests.ports import free_port
from tests.purchase_support import open_shop
from tests.subscription_support import subscribed
from tests.support import activity_deps, api_client, bearer, create_user, settings_for

ADDON = {"type": "addon", "tier": "sms-1000"}


def code(response) -> str:
    return str(response.json()["error"]["code"])


class GrantCommitsThenTimesOut:
    """The grant commits, then its answer is lost, more times than any bounded retry
    policy would allow; the grant is idempotent, so the purchase must still complete."""

    def __init__(self, real: PurchaseActivities, lost_answers: int) -> None:
        self.real, self.lost_answers, self.attempts = real, lost_answers, 0

    @activity.defn(name="grant_purchase")
    def grant_purchase(self, request: GrantRequest) -> None:
        self.real.grant_purchase(request)
        self.attempts += 1
        if self.attempts <= self.lost_answers:
            raise TimeoutError("the worker lost the answer after the commit")


async def test_a_grant_that_committed_is_never_refunded(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    env = time_skipping_env
    async with open_shop(env, sqlite_sessions, sqlite_url, worker=False) as shop:
        deps = activity_deps(env.client, sqlite_sessions)
        flaky = GrantCommitsThenTimesOut(PurchaseActivities(deps), lost_answers=9)
        stand_ins = [flaky.grant_purchase]
        async with worker.build_worker(env.client, deps, shop.task_queue, stand_ins=stand_ins):
            quote = (await shop.buy(ADDON)).json()
            confirm = asyncio.create_task(shop.confirm(quote["purchase_id"]))
            while not confirm.done():  # the retries' backoff passes on the server's clock
                await env.sleep(timedelta(seconds=15))
            done = await confirm
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "completed"
        assert flaky.attempts == 10
        assert check_money(shop.sessions, shop.account_id) == {"completed": 1}
        assert shop.balance() == 1000


async def test_a_pricing_change_never_changes_an_inflight_quote(
    time_skipping_env, sqlite_sessions, sqlite_url, monkeypatch
):
    """A deploy that changes pricing between quote and confirm: the workflow replays
    (no cache) and must capture exactly the quote the customer saw."""
    env = time_skipping_env
    async with open_shop(env, sqlite_sessions, sqlite_url, worker=False) as shop:
        deps = activity_deps(env.client, sqlite_sessions)
        async with worker.build_worker(env.client, deps, shop.task_queue, max_cached_workflows=0):
            quote = (await shop.buy(ADDON)).json()
            shown = quote["quote"]["due_now_minor"]
            real = pricing.build_quote

            def doubled(**kwargs):
                priced = real(**kwargs)
                return priced.model_copy(update={"due_now_minor": 2 * priced.due_now_minor})

            monkeypatch.setattr("activities.purchase.build_quote", doubled)
            done = await shop.confirm(quote["purchase_id"])
        assert done.status_code == 200, done.text
        assert done.json()["payment"]["amount_minor"] == shown
        assert check_money(shop.sessions, shop.account_id) == {"completed": 1}


async def test_a_permanent_error_inside_the_subscription_never_holds_a_cancel(
    time_skipping_env, sqlite_sessions
):
    """The add-on row vanished (a hand edit): the write a message makes fails for good.
    It must not be retried forever while holding the subscription's lock."""
    async with subscribed(time_skipping_env, sqlite_sessions, "gone") as sub:
        await loaded(sub)  # the workflow has read its add-on; now the row goes
        with transaction(sqlite_sessions) as session:
            row = session.get(AddonSubscription, sub.account_id)
            session.delete(row)
        change = BillingCycleChanged(account_id=sub.account_id, billing_cycle=BillingCycle.ANNUAL)
        await sub.handle.signal(BILLING_CYCLE_CHANGED_SIGNAL, change)
        cancel = sub.handle.execute_update(
            CANCEL_UPDATE, CancelAddon(account_id=sub.account_id, requested_by="ana")
        )
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await asyncio.wait_for(cancel, timeout=30)
        assert error_code_of(refused.value.cause) is ErrorCode.ADDON_NOT_ACTIVE
        # Neither refused write left its change behind in the workflow's state.
        state = await sub.state()
        assert (state.status, state.ends_at, state.pending_billing_cycle) == (
            AddonStatus.ACTIVE,
            None,
            None,
        )


def test_a_request_the_provider_refuses_answers_payment_provider_error_wherever_it_surfaces():
    """A refusal of the provider that a workflow lets through untyped (an update failed
    by the activity's own error) answers 502 ``payment_provider_error``, never a 500."""
    refused = to_application_error(GatewayRejected("Stripe refused refunding pi_1: bad"))
    surfaced = ActivityError(
        "Activity task failed",
        scheduled_event_id=1,
        started_event_id=2,
        identity="worker",
        activity_type="refund",
        activity_id="1",
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    surfaced.__cause__ = refused
    assert refused.type == "gateway_rejected"
    assert error_code_of(surfaced) is ErrorCode.PAYMENT_PROVIDER_ERROR
    assert refusal_details(surfaced) == {}


async def loaded(sub) -> None:
    for _ in range(100):
        with contextlib.suppress(WorkflowQueryFailedError):
            if (await sub.state()).status is AddonStatus.ACTIVE:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the subscription never loaded its add-on")


def test_every_activity_slot_has_a_thread():
    """A started activity's start-to-close clock must not run while it waits for a
    thread: the worker never takes more (local) activities than it has threads."""
    capacity = worker.Capacity()
    assert capacity.threads == capacity.activities + capacity.local_activities


async def test_worker_config_matches_its_threads(time_skipping_env, sqlite_sessions):
    deps = activity_deps(time_skipping_env.client, sqlite_sessions)
    built = worker.build_worker(time_skipping_env.client, deps, "slots")
    config = built.config()
    executor = config["activity_executor"]
    assert executor is not None
    slots = int(config["max_concurrent_activities"] or 0) + int(
        config["max_concurrent_local_activities"] or 0
    )
    assert slots <= executor._max_workers  # type: ignore[attr-defined]


async def test_no_worker_running_answers_503_within_the_wait(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    """The add-on cancel used to hang past the API's wait with no worker polling."""
    async with subscribed(time_skipping_env, sqlite_sessions, "idle", with_worker=False) as sub:
        now = await time_skipping_env.get_current_time()
        admin = create_user(sqlite_sessions, sub.account_id, "ana", now=now)
        settings = settings_for(sqlite_url, sms_api_wait_seconds=1)
        async with api_client(settings, time_skipping_env.client) as api:
            started = datetime.now(UTC)
            answer = await api.post(
                f"/v1/accounts/{sub.account_id}/sms/addon/cancel",
                headers=bearer(admin),
            )
            waited = datetime.now(UTC) - started
        assert (answer.status_code, code(answer)) == (503, "service_unavailable")
        assert waited < timedelta(seconds=20)


async def test_temporal_unreachable_answers_503(time_skipping_env, sqlite_sessions, sqlite_url):
    async with open_shop(
        time_skipping_env, sqlite_sessions, sqlite_url, worker=False
    ) as reachable_shop:
        settings = settings_for(sqlite_url, temporal_address=f"127.0.0.1:{free_port()}")
        async with api_client(settings, None) as api:
            answer = await api.post(
                f"/v1/accounts/{reachable_shop.account_id}/sms/purchases",
                json={"item": ADDON},
                headers=reachable_shop.admin,
            )
        assert (answer.status_code, code(answer)) == (503, "service_unavailable")
        with reachable_shop.sessions() as session:
            assert session.query(Purchase).count() == 0  # nothing left in `processing`

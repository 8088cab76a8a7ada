"""Webhook delivery to a real local receiver on loopback: signed per Standard Webhooks
(verified with the receivers' own package), retried with backoff until a 2xx for at
most the retry bound (3 days), then recorded failed; a refusal that retrying cannot
change ends failed at once; an operator redelivers a failed event. The time-skipping
server passes the backoff at once."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

import worker
from config.settings import get_settings
from contracts.events import (
    DEFAULT_DELIVERY_RETRY,
    DeliveryAttempt,
    SweepReport,
    delivery_workflow_id,
)
from domain.events import EventType
from starter.api.app import build_services, create_app
from starter.cli.ops import run_ops
from store.db import transaction
from store.events import find_event, record_event
from tests.event_support import (
    FOREVER,
    Account,
    Receiver,
    active_account,
    events,
    put_settings,
    receiver,
    send,
)
from tests.support import (
    ADMIN_TOKEN,
    activity_deps,
    api_client,
    bearer,
    keep_history,
    running_worker,
    settings_for,
)
from workflows.event_delivery import EventSweepWorkflow

FAILURES = 3
# Past the retry bound, by the time-skipping server's clock.
PAST_THE_BOUND = DEFAULT_DELIVERY_RETRY + timedelta(hours=1)
# Refusals before a receiver that was down for more than a day recovers: the backoff
# (1 s, 2 s … then hourly) puts the 41st attempt about 29 hours after the first.
DAY_LONG_OUTAGE = 40


async def delivered(
    env: WorkflowEnvironment, account: Account, event_id: str, round_: int = 0
) -> Any:
    """How the delivery round ended, once the server's clock is past its retry bound
    (its timers fire as the time passes)."""
    await env.sleep(PAST_THE_BOUND)
    handle = env.client.get_workflow_handle(
        delivery_workflow_id(account.account_id, event_id, round_)
    )
    attempt = DeliveryAttempt.model_validate(await handle.result())
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    return attempt, handle


def assert_signed(hook: Receiver, secret: str, event_id: str) -> None:
    """Every POST verifies with ``standardwebhooks``, names the event as its id and
    carries the time it was sent (so a captured one cannot be replayed later)."""
    for body in hook.verified(secret):
        assert body["event_id"] == event_id
    now = datetime.now(UTC).timestamp()
    for request in hook.received:
        assert request.headers["webhook-id"] == event_id
        assert abs(int(request.headers["webhook-timestamp"]) - now) < 300
        assert request.headers["webhook-signature"].startswith("v1,")
        assert "x-signature-sha256" not in request.headers


async def a_low_balance_event(api: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    assert (await send(api, account, 80)).status_code == 200  # 400 → 80: below 100
    [event] = await events(api, account)
    return event


@dataclass
class Outcome:
    account: Account
    event_id: str
    secret: str  # the webhook secret answered when the URL was set
    attempt: DeliveryAttempt  # how the delivery workflow ended
    shown: dict[str, Any]  # the event as the feed shows it then
    took: timedelta  # workflow time from the event to the end of its delivery


async def deliver_a_low_balance_event(
    env: WorkflowEnvironment, sessions: Any, url: str, hook: Receiver, history: str | None
) -> Outcome:
    """A low-balance event of a new account whose webhook is ``hook``, through the real
    API and worker, once its delivery has ended (recorded as ``history``, if named)."""
    account = active_account(sessions, 400, datetime.now(UTC))
    settings = settings_for(url)
    async with (
        running_worker(env.client, sessions, settings.sms_task_queue),
        api_client(settings, env.client) as api,
    ):
        saved = await put_settings(
            api, account, {"low_balance_threshold": 100, "webhook_url": hook.url}
        )
        event = await a_low_balance_event(api, account)
        attempt, handle = await delivered(env, account, event["event_id"])
        if history is not None:
            await keep_history(handle, history)
        [shown] = await events(api, account)
    with sessions() as session:
        row = find_event(session, event["event_id"])
        assert row is not None and row.delivered_at is not None
        took = row.delivered_at - row.at
    return Outcome(account, event["event_id"], saved["webhook_secret"], attempt, shown, took)


Deliver = Callable[[Receiver, str | None], Awaitable[Outcome]]


@pytest.fixture
def deliver(time_skipping_env, sqlite_sessions, sqlite_url) -> Deliver:
    return partial(deliver_a_low_balance_event, time_skipping_env, sqlite_sessions, sqlite_url)


async def test_a_low_balance_event_reaches_a_failing_receiver_once_it_recovers(
    deliver: Deliver,
):
    with receiver(FAILURES) as hook:
        out = await deliver(hook, "event_delivery/retried_until_accepted")
    assert out.attempt.sent and out.attempt.status_code == 204
    delivery = out.shown["delivery"]
    assert delivery == {"state": "delivered", "attempts": FAILURES + 1, "last_error": None}
    assert len(hook.received) == FAILURES + 1  # three 503s, then accepted
    assert len({r.body for r in hook.received}) == 1  # every retry sent the same event
    assert_signed(hook, out.secret, out.event_id)
    [accepted] = hook.accepted()
    assert accepted["type"] == "low_balance" and accepted["account_id"] == out.account.account_id
    assert accepted["data"] == {"balance": 80, "threshold": 100}


async def test_a_receiver_down_for_three_days_ends_the_delivery_failed(
    deliver: Deliver,
):
    with receiver(FOREVER) as hook:
        out = await deliver(hook, "event_delivery/failed_after_retry_bound")
    assert not out.attempt.sent and out.attempt.failure is not None
    delivery = out.shown["delivery"]
    assert delivery["state"] == "failed"
    assert delivery["attempts"] == len(hook.received) > DAY_LONG_OUTAGE
    assert "503" in delivery["last_error"] and "3 days" in delivery["last_error"]
    assert_signed(hook, out.secret, out.event_id)
    # Workflow time: retried for the whole bound, and not much past it.
    assert DEFAULT_DELIVERY_RETRY - timedelta(hours=2) < out.took <= DEFAULT_DELIVERY_RETRY


async def test_a_receiver_back_after_a_day_gets_the_event(
    deliver: Deliver,
):
    """429 is worth retrying; a receiver back within the bound gets the event."""
    with receiver(DAY_LONG_OUTAGE, refusal=429) as hook:
        out = await deliver(hook, None)  # the path of retried_until_accepted, longer
    assert out.attempt.sent
    assert out.shown["delivery"]["state"] == "delivered"
    assert out.shown["delivery"]["attempts"] == DAY_LONG_OUTAGE + 1
    assert timedelta(days=1) < out.took < DEFAULT_DELIVERY_RETRY


async def test_a_refusal_is_not_retried_and_an_operator_redelivers_the_event(
    time_skipping_env, sqlite_sessions, sqlite_url, monkeypatch, capsys
):
    """A 410 will not change by retrying: failed after one POST. Once the receiver is
    fixed, an operator sends it again (``sms-addon ops redeliver``: a new round through
    the admin API); a second redelivery is refused."""
    env, sessions = time_skipping_env, sqlite_sessions
    account = active_account(sessions, 400, datetime.now(UTC))
    settings = settings_for(sqlite_url)
    monkeypatch.setenv("SMS_ADMIN_TOKEN", ADMIN_TOKEN)
    get_settings.cache_clear()
    admin = {**bearer(ADMIN_TOKEN), "X-Operator": "olga"}
    services = build_services(settings, env.client)
    app = create_app(settings)
    app.state.services = services
    transport = httpx.ASGITransport(app=app)  # the API, for the test and the CLI alike
    with receiver(FOREVER, refusal=410) as hook:
        async with (
            running_worker(env.client, sessions, settings.sms_task_queue),
            httpx.AsyncClient(transport=transport, base_url="http://test") as api,
        ):
            saved = await put_settings(
                api, account, {"low_balance_threshold": 100, "webhook_url": hook.url}
            )
            event = await a_low_balance_event(api, account)
            event_id = event["event_id"]
            attempt, handle = await delivered(env, account, event_id)
            await keep_history(handle, "event_delivery/refused")
            [failed] = await events(api, account)
            assert failed["delivery"]["state"] == "failed" and len(hook.received) == 1
            assert failed["delivery"]["attempts"] == 1
            assert "410" in failed["delivery"]["last_error"]

            hook.recover()
            argv = ["--api", "http://test", "--operator", "olga", "redeliver"]
            code = await run_ops([*argv, account.account_id, event_id], transport)
            answer = json.loads(capsys.readouterr().out)
            assert code == 0 and answer == {
                "event_id": event_id,
                "delivery": {"state": "pending", "attempts": 0, "last_error": None},
            }
            again, _ = await delivered(env, account, event_id, round_=1)
            [shown] = await events(api, account)
            path = f"/v1/admin/accounts/{account.account_id}/sms/events/{event_id}/redeliver"
            refused = await api.post(path, headers=admin)  # delivered now: nothing to redo
            unknown = await api.post(path.replace(event_id, "evt_nope"), headers=admin)
            audit = await api.get(
                f"/v1/admin/accounts/{account.account_id}/sms/audit", headers=admin
            )
    get_settings.cache_clear()
    services.writer.close()
    services.engine.dispose()
    assert not attempt.sent and attempt.failure is not None and again.sent
    assert shown["delivery"] == {"state": "delivered", "attempts": 1, "last_error": None}
    assert len(hook.received) == 2
    assert_signed(hook, saved["webhook_secret"], event_id)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "conflict")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    [record] = audit.json()["audit"]
    assert (record["action"], record["operator"], record["reference"]) == (
        "redeliver",
        "olga",
        event_id,
    )
    assert record["payload"]["failed_round"]["attempts"] == 1


async def test_an_address_inward_at_delivery_time_ends_failed_without_a_request(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    """The API took the URL (private addresses allowed there), but the worker may not
    reach private addresses: the host resolves to loopback when it is sent, so it is
    refused at once, not retried, and the receiver gets nothing."""
    env, sessions = time_skipping_env, sqlite_sessions
    account = active_account(sessions, 400, datetime.now(UTC))
    settings = settings_for(sqlite_url)
    strict = dataclasses.replace(activity_deps(env.client, sessions), webhook_allow_private=False)
    with receiver(0) as hook:
        rebound = hook.url.replace("127.0.0.1", "localhost")
        async with (
            worker.build_worker(env.client, strict, settings.sms_task_queue),
            api_client(settings, env.client) as api,
        ):
            await put_settings(api, account, {"low_balance_threshold": 100, "webhook_url": rebound})
            event = await a_low_balance_event(api, account)
            attempt, _ = await delivered(env, account, event["event_id"])
            [shown] = await events(api, account)
    assert not attempt.sent and hook.received == []
    assert shown["delivery"]["state"] == "failed" and shown["delivery"]["attempts"] == 1
    assert "localhost resolves to" in shown["delivery"]["last_error"]
    assert "loopback" in shown["delivery"]["last_error"]


async def test_the_sweep_delivers_events_whose_start_was_lost(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    """Events written by activities (renewals, purchases) and any start lost with the
    API's process are started by the sweep; a second sweep starts nothing again."""
    env, sessions = time_skipping_env, sqlite_sessions
    account = active_account(sessions, 10, datetime.now(UTC))
    settings = settings_for(sqlite_url)
    with receiver(1) as hook:
        async with (
            running_worker(env.client, sessions, settings.sms_task_queue),
            api_client(settings, env.client) as api,
        ):
            saved = await put_settings(api, account, {"webhook_url": hook.url})
            written = []
            with transaction(sessions) as session:
                for n in range(2):
                    row = record_event(
                        session,
                        account_id=account.account_id,
                        type_=EventType.RENEWAL_COMPLETED,
                        data={"month_start": f"2026-0{n + 1}-01"},
                        at=datetime.now(UTC),
                        key=f"test:{n}",
                    )
                    written.append(row.event_id)
            # Nobody started their deliveries: the sweep does.
            first = await env.client.start_workflow(
                EventSweepWorkflow.run,
                id=f"sweep-{uuid.uuid4().hex[:8]}",
                task_queue=settings.sms_task_queue,
            )
            assert (await first.result()).deliveries_started == 2
            await keep_history(first, "event_sweep/started_two")
            for event_id in written:
                attempt, _ = await delivered(env, account, event_id)
                assert attempt.sent
            again = await env.client.execute_workflow(
                EventSweepWorkflow.run,
                id=f"sweep-{uuid.uuid4().hex[:8]}",
                task_queue=settings.sms_task_queue,
            )
            assert again == SweepReport()  # all delivered: nothing to start
    assert sorted(e["event_id"] for e in hook.accepted()) == sorted(written)
    for verified in hook.verified(saved["webhook_secret"]):
        assert verified["event_id"] in written

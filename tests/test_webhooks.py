"""Webhook delivery to a real local receiver that fails and then recovers: signed,
retried with backoff until a 2xx, every event delivered, ids to dedupe by. The
time-skipping server passes the backoff at once."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime

from contracts.events import DeliveryAttempt, SweepReport, delivery_workflow_id
from domain.events import EventType
from store.db import transaction
from store.events import find_event, record_event
from tests.event_support import active_account, events, put_settings, receiver, send
from tests.support import api_client, keep_history, running_worker, settings_for
from workflows.event_delivery import EventSweepWorkflow

FAILURES = 3


def signed(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_a_low_balance_event_reaches_a_failing_receiver_once_it_recovers(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    env, sessions = time_skipping_env, sqlite_sessions
    account = active_account(sessions, 400, datetime.now(UTC))
    settings = settings_for(sqlite_url)
    with receiver(FAILURES) as hook:
        async with (
            running_worker(env.client, sessions, settings.sms_task_queue),
            api_client(settings, env.client) as api,
        ):
            saved = await put_settings(
                api, account, {"low_balance_threshold": 100, "webhook_url": hook.url}
            )
            assert (await send(api, account, 80)).status_code == 200  # 400 → 80
            [event] = await events(api, account)
            handle = env.client.get_workflow_handle(
                delivery_workflow_id(account.account_id, event["event_id"])
            )
            attempt = DeliveryAttempt.model_validate(await handle.result())
            await keep_history(handle, "event_delivery/retried_until_accepted")
    assert attempt.sent and attempt.status_code == 204
    assert len(hook.received) == FAILURES + 1  # three 503s, then accepted
    bodies = {body for body, _ in hook.received}
    assert len(bodies) == 1  # every retry sent the same event
    for body, signature in hook.received:
        assert signature == signed(saved["webhook_secret"], body)
    [delivered] = hook.accepted()
    assert delivered["event_id"] == event["event_id"]
    assert delivered["type"] == "low_balance" and delivered["account_id"] == account.account_id
    assert delivered["data"] == {"balance": 80, "threshold": 100}
    with sessions() as session:
        row = find_event(session, event["event_id"])
        assert row is not None and row.delivery_status == "delivered"


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
                handle = env.client.get_workflow_handle(
                    delivery_workflow_id(account.account_id, event_id)
                )
                assert DeliveryAttempt.model_validate(await handle.result()).sent
            again = await env.client.execute_workflow(
                EventSweepWorkflow.run,
                id=f"sweep-{uuid.uuid4().hex[:8]}",
                task_queue=settings.sms_task_queue,
            )
            assert again == SweepReport()  # all delivered: nothing to start
    assert sorted(e["event_id"] for e in hook.accepted()) == sorted(written)
    for body, signature in hook.received:
        assert signature == signed(saved["webhook_secret"], body)

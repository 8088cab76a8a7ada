"""A mail server that is away: retried with growing waits until it is back; past the
bound (about a day by default) the message is recorded failed and the workflow
completes, never Failed; a refusal for good is not retried."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from config.settings import Settings
from contracts.mail import mail_workflow_id
from devstack.mail_sink import MailDir, serve
from domain.mail import MailStatus
from store.db import transaction
from store.mail_models import MailMessage
from tests.event_support import SETTLE_WAIT_SECONDS
from tests.mail_support import Refusing, outbox, sent, smtp_sink, sweep, watched_account
from tests.ports import HOST, free_port
from tests.support import keep_history

# Attempts a server that is away must see fail before it comes back.
FAILED_BEFORE_BACK = 2


def failed_attempts(history) -> int:
    return sum(
        1 for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
    )


async def handle_of(env, sessions, account_id: str) -> WorkflowHandle[Any, Any]:
    [row] = outbox(sessions, account_id)
    handle: WorkflowHandle[Any, Any] = env.client.get_workflow_handle(
        mail_workflow_id(account_id, row.mail_id)
    )
    return handle


async def test_a_server_away_then_back_gets_the_message(
    time_skipping_env, sqlite_sessions, sqlite_url, tmp_path
):
    env, sessions = time_skipping_env, sqlite_sessions
    port = free_port()  # reserved for the server, which is not there yet
    async with watched_account(
        env,
        sessions,
        sqlite_url,
        f"smtp://{HOST}:{port}",
        sms_mail_first_backoff_seconds=0.2,
        sms_mail_longest_backoff_seconds=0.5,
        sms_mail_attempts=100,
    ) as watched:
        account = watched.account
        await watched.send(80)
        handle = await handle_of(env, sessions, account.account_id)
        deadline = asyncio.get_running_loop().time() + SETTLE_WAIT_SECONDS
        while failed_attempts(await handle.fetch_history()) < FAILED_BEFORE_BACK:
            assert asyncio.get_running_loop().time() < deadline, "the attempts never failed"
            await asyncio.sleep(0.1)
        sink = MailDir(tmp_path / "mail")
        controller = serve(sink, HOST, port)  # the server is back
        try:
            [row] = await sent(env, sessions, account.account_id)
        finally:
            controller.stop()
        history = await handle.fetch_history()
    assert row.status == MailStatus.SENT
    assert failed_attempts(history) >= FAILED_BEFORE_BACK
    assert len(sink.messages()) == 1


async def test_past_the_bound_the_message_is_recorded_failed(
    time_skipping_env, sqlite_sessions, sqlite_url, tmp_path
):
    """With the default settings: 30 attempts over about a day (the waits skipped);
    put back to pending, it is sent again."""
    env, sessions = time_skipping_env, sqlite_sessions
    port = free_port()  # nothing listens there
    async with watched_account(env, sessions, sqlite_url, f"smtp://{HOST}:{port}") as watched:
        account = watched.account
        await watched.send(80)
        [row] = await sent(env, sessions, account.account_id)
        handle = await handle_of(env, sessions, account.account_id)
        described = await handle.describe()
        history = await handle.fetch_history()
        await keep_history(handle, "mail_delivery/failed_past_the_bound")
        # The runbook's resend, once the server is there: back to pending, then the sweep.
        sink = MailDir(tmp_path / "mail")
        controller = serve(sink, HOST, port)
        try:
            with transaction(sessions) as session:
                session.execute(
                    update(MailMessage)
                    .where(MailMessage.mail_id == row.mail_id)
                    .values(status="pending", settled_at=None, detail=None)
                )
            await sweep(env.client, watched.task_queue)
            [resent] = await sent(env, sessions, account.account_id)
        finally:
            controller.stop()
    assert resent.status == MailStatus.SENT and len(sink.messages()) == 1
    assert described.status == WorkflowExecutionStatus.COMPLETED  # not Failed
    assert row.status == MailStatus.FAILED
    assert row.detail is not None and "Connection refused" in row.detail
    assert failed_attempts(history) == Settings().sms_mail_attempts
    assert row.settled_at is not None
    assert timedelta(hours=20) < row.settled_at - row.created_at < timedelta(hours=26)


async def test_a_refusal_for_good_is_not_retried(
    time_skipping_env, sqlite_sessions, sqlite_url, tmp_path
):
    class NoSuchMailbox(Refusing):
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 5.1.1 No such mailbox"

    env, sessions = time_skipping_env, sqlite_sessions
    with smtp_sink(tmp_path, NoSuchMailbox(tmp_path / "mail", refusals=0)) as sink:
        async with watched_account(env, sessions, sqlite_url, sink.url) as watched:
            account = watched.account
            await watched.send(80)
            [row] = await sent(env, sessions, account.account_id)
            history = await (await handle_of(env, sessions, account.account_id)).fetch_history()
    assert row.status == MailStatus.FAILED
    assert row.detail is not None and "No such mailbox" in row.detail
    assert failed_attempts(history) == 1
    assert sink.received() == []

"""Mail to a real SMTP server (aiosmtpd on a loopback port): each message sent once on
its fact, to the primary admin, in plain text and HTML, with a Message-ID made from its
outbox row; nothing sent when mail is off; a server that says "later" is retried."""

from __future__ import annotations

from contracts.mail import mail_workflow_id
from domain.mail import MAIL_OFF, MailKind, MailStatus
from tests.event_support import top_up
from tests.mail_support import (
    SENDER_DOMAIN,
    Refusing,
    outbox,
    sent,
    smtp_sink,
    sweep,
    text_of,
    watched_account,
)
from tests.support import keep_history


async def test_a_low_balance_crossing_is_mailed_once(
    time_skipping_env, sqlite_sessions, sqlite_url, tmp_path
):
    env, sessions = time_skipping_env, sqlite_sessions
    with smtp_sink(tmp_path / "mail") as sink:
        async with watched_account(env, sessions, sqlite_url, sink.url) as watched:
            account = watched.account
            await watched.send(80)  # 400 → 80: crossed
            await watched.send(5)  # still below: no new one
            [row] = await sent(env, sessions, account.account_id)
            await sweep(env.client, watched.task_queue)  # a second start sends nothing
            top_up(sessions, account.account_id, 200, key="refill")  # 60 → 260: re-armed
            await watched.send(50)  # 260 → 60: crossed again
            first, second = await sent(env, sessions, account.account_id)
            handle = env.client.get_workflow_handle(
                mail_workflow_id(account.account_id, row.mail_id)
            )
            await keep_history(handle, "mail_delivery/sent")
    assert first.mail_id == row.mail_id
    assert (first.kind, first.status, first.data) == (
        MailKind.LOW_BALANCE,
        MailStatus.SENT,
        {"balance": 80, "threshold": 100},
    )
    assert first.sent_to == f"ana@{account.account_id}.test"  # the primary admin
    assert second.status == MailStatus.SENT and second.data["balance"] == 60
    one, two = sink.received()
    assert one["Message-ID"] == f"<{first.mail_id}@{SENDER_DOMAIN}>"
    assert two["Message-ID"] == f"<{second.mail_id}@{SENDER_DOMAIN}>"
    assert one["To"] == first.sent_to and one["Subject"] == "Your SMS credits are running low"
    assert one["Content-Language"] == "en"
    assert "Your SMS credit balance is 80 credits, below your alert threshold of 100." in (
        text_of(one)
    )
    html = one.get_body(("html",))
    assert html is not None and "<p>Your SMS credit balance is 80 credits" in html.get_content()


async def test_mail_off_sends_nothing_and_says_so(
    time_skipping_env, sqlite_sessions, sqlite_url, tmp_path
):
    env, sessions = time_skipping_env, sqlite_sessions
    with smtp_sink(tmp_path / "mail") as sink:
        async with watched_account(env, sessions, sqlite_url, None) as watched:
            await watched.send(80)
            [row] = await sent(env, sessions, watched.account.account_id)
    assert (row.status, row.detail) == (MailStatus.SKIPPED, MAIL_OFF)
    assert sink.received() == []


async def test_a_server_that_says_later_is_retried_until_it_takes_the_message(
    time_skipping_env, sqlite_sessions, sqlite_url, tmp_path
):
    env, sessions = time_skipping_env, sqlite_sessions
    with smtp_sink(tmp_path, Refusing(tmp_path / "mail", refusals=3)) as sink:
        async with watched_account(env, sessions, sqlite_url, sink.url) as watched:
            await watched.send(80)
            [row] = await sent(env, sessions, watched.account.account_id)
    assert row.status == MailStatus.SENT
    assert [m["Message-ID"] for m in sink.received()] == [f"<{row.mail_id}@{SENDER_DOMAIN}>"]
    assert outbox(sessions, watched.account.account_id)[0].settled_at is not None

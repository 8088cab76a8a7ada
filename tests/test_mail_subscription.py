"""The subscription's mail, each once on its fact: the renewal declined (past due),
each declined dunning retry, the add-on suspended after the last one, and a cancel
taking effect. Written by the subscription's activities and started by the sweep."""

from __future__ import annotations

from datetime import timedelta

from contracts.subscription import CANCEL_UPDATE, CancelAddon
from domain.addon import DEFAULT_DUNNING_RETRY_DAYS
from domain.enums import Role
from domain.mail import NO_RECIPIENT, MailKind, MailStatus
from payments.sandbox import DECLINING_METHOD
from tests.mail_support import SENDER_DOMAIN, mail_worker, sent, smtp_sink, sweep, text_of
from tests.subscription_support import SETTLE, subscribed, task_queue
from tests.support import create_user


async def test_a_declined_renewal_its_retries_and_the_suspension_are_mailed_once_each(
    time_skipping_env, sqlite_sessions, tmp_path
):
    env, sessions, queue = time_skipping_env, sqlite_sessions, task_queue()
    with smtp_sink(tmp_path / "mail") as sink:
        async with (
            subscribed(
                env,
                sessions,
                "dunning",
                payment_method=DECLINING_METHOD,
                queue=queue,
                with_worker=False,
            ) as sub,
            mail_worker(env.client, sessions, queue, sink.url),
        ):
            create_user(
                sessions, sub.account_id, "ana", role=Role.PRIMARY_ADMIN, now=sub.activated_at
            )
            await sub.after_boundary(1)  # declined: past due
            await sweep(env.client, queue)
            [past_due] = await sent(env, sessions, sub.account_id, skip_time=False)
            last_retry = sub.boundary(1) + timedelta(days=DEFAULT_DUNNING_RETRY_DAYS[-1])
            await sub.advance_to(last_retry + SETTLE)  # every retry declined: suspended
            await sweep(env.client, queue)
            await sweep(env.client, queue)  # a second sweep starts nothing again
            rows = await sent(env, sessions, sub.account_id, skip_time=False)
    month = f"{sub.boundary(1):%Y-%m-%d}"
    assert (past_due.kind, past_due.reference, past_due.status) == (
        MailKind.PAST_DUE,
        month,
        MailStatus.SENT,
    )
    retries = range(2, len(DEFAULT_DUNNING_RETRY_DAYS) + 2)
    assert [(r.kind, r.reference) for r in rows] == [
        (MailKind.PAST_DUE, month),
        *((MailKind.RENEWAL_DECLINED, f"{month}:attempt-{n}") for n in retries),
        (MailKind.ADDON_ENDED, f"suspended:{last_retry.isoformat()}"),
    ]
    assert {r.status for r in rows} == {MailStatus.SENT}
    received = sink.received()
    assert sorted(str(m["Message-ID"]) for m in received) == sorted(
        f"<{r.mail_id}@{SENDER_DOMAIN}>" for r in rows
    )
    by_subject = {str(m["Subject"]): m for m in received}
    assert set(by_subject) == {
        "Your SMS add-on renewal was declined",
        "Another charge for your SMS add-on was declined",
        "Your SMS add-on was suspended",
    }
    declined = text_of(by_subject["Your SMS add-on renewal was declined"])
    assert f"for the month starting {sub.boundary(1):%B} {sub.boundary(1).day}," in declined
    assert "$18.00" in text_of(by_subject["Another charge for your SMS add-on was declined"])


async def test_a_cancel_taking_effect_is_mailed_once(time_skipping_env, sqlite_sessions, tmp_path):
    env, sessions, queue = time_skipping_env, sqlite_sessions, task_queue()
    with smtp_sink(tmp_path / "mail") as sink:
        async with (
            subscribed(env, sessions, "cancel", queue=queue, with_worker=False) as sub,
            mail_worker(env.client, sessions, queue, sink.url),
        ):
            create_user(
                sessions, sub.account_id, "ana", role=Role.PRIMARY_ADMIN, now=sub.activated_at
            )
            await sub.handle.execute_update(
                CANCEL_UPDATE, CancelAddon(account_id=sub.account_id, requested_by="ana")
            )
            await sweep(env.client, queue)
            assert await sent(env, sessions, sub.account_id, skip_time=False) == []  # not yet
            await sub.after_boundary(1)
            await sweep(env.client, queue)
            [ended] = await sent(env, sessions, sub.account_id, skip_time=False)
    assert (ended.kind, ended.status, ended.data) == (
        MailKind.ADDON_ENDED,
        MailStatus.SENT,
        {"status": "cancelled", "date": sub.boundary(1).isoformat()},
    )
    [message] = sink.received()
    assert message["Subject"] == "Your SMS add-on has ended"
    assert f"{sub.boundary(1):%B} {sub.boundary(1).day}, {sub.boundary(1).year}" in text_of(message)


async def test_with_no_one_to_write_to_the_message_is_skipped(
    time_skipping_env, sqlite_sessions, tmp_path
):
    """No billing details and no primary admin: nothing is sent, and the row says why."""
    env, sessions, queue = time_skipping_env, sqlite_sessions, task_queue()
    with smtp_sink(tmp_path / "mail") as sink:
        async with (
            subscribed(env, sessions, "nobody", queue=queue, with_worker=False) as sub,
            mail_worker(env.client, sessions, queue, sink.url),
        ):
            await sub.handle.execute_update(
                CANCEL_UPDATE, CancelAddon(account_id=sub.account_id, requested_by="ops")
            )
            await sub.after_boundary(1)
            await sweep(env.client, queue)
            [ended] = await sent(env, sessions, sub.account_id, skip_time=False)
    assert (ended.kind, ended.status, ended.detail) == (
        MailKind.ADDON_ENDED,
        MailStatus.SKIPPED,
        NO_RECIPIENT,
    )
    assert sink.received() == []

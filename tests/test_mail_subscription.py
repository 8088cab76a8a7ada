"""The subscription's mail, each once on its fact: the renewal declined (past due),
each declined dunning retry (answered by the provider, or settled later by the payment
janitor), the add-on suspended after the last one, and a cancel taking effect. Written
by the subscription's activities and started by the sweep."""

from __future__ import annotations

from datetime import timedelta

from activities.subscription import SubscriptionActivities
from contracts.subscription import CANCEL_UPDATE, CancelAddon
from domain.addon import DEFAULT_DUNNING_RETRY_DAYS
from domain.enums import PaymentStatus, Role
from domain.mail import NO_RECIPIENT, MailKind, MailStatus
from payments.sandbox import DECLINING_METHOD
from tests.mail_support import SENDER_DOMAIN, mail_worker, sent, smtp_sink, sweep, text_of
from tests.subscription_support import SETTLE, subscribed, task_queue
from tests.support import activity_deps, create_user
from tests.unknown_outcome_support import OutcomeUnknown, settle_as_janitor


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


async def test_a_declined_retry_the_janitor_settles_is_mailed_as_an_answered_one_is(
    time_skipping_env, sqlite_sessions, tmp_path
):
    """The first dunning retry's answer is lost and the payment janitor later settles it
    as declined by the card: its mail is the one an answered decline sends (the second
    retry's), sent once, however often the outcome is read."""
    env, sessions, queue = time_skipping_env, sqlite_sessions, task_queue()
    real = SubscriptionActivities(activity_deps(env.client, sessions))
    provider = OutcomeUnknown(sessions, real, lost=lambda request: request.attempt == 2)
    with smtp_sink(tmp_path / "mail") as sink:
        async with (
            subscribed(
                env,
                sessions,
                "janitor-declined",
                payment_method=DECLINING_METHOD,
                queue=queue,
                with_worker=False,
            ) as sub,
            mail_worker(
                env.client, sessions, queue, sink.url, stand_ins=[provider.charge_addon_renewal]
            ),
        ):
            create_user(
                sessions, sub.account_id, "ana", role=Role.PRIMARY_ADMIN, now=sub.activated_at
            )
            first, second = (
                sub.boundary(1) + timedelta(days=days) for days in DEFAULT_DUNNING_RETRY_DAYS[:2]
            )
            await sub.advance_to(first + SETTLE)  # declined at renewal; the retry's answer lost
            assert (await sub.state()).charging is not None
            settle_as_janitor(
                sessions, sub.account_id, PaymentStatus.DECLINED, "Your card was declined."
            )
            await sub.advance_to(second + SETTLE)  # read as declined; the next one answered
            await sweep(env.client, queue)
            # The lost attempt read again, and its answer arriving late: the same message.
            [lost] = provider.unanswered.values()
            real.find_renewal_charge(lost)
            assert not real.charge_addon_renewal(lost).succeeded
            await sweep(env.client, queue)
            rows = await sent(env, sessions, sub.account_id, skip_time=False)
    month = f"{sub.boundary(1):%Y-%m-%d}"
    assert [(r.kind, r.reference, r.status) for r in rows] == [
        (MailKind.PAST_DUE, month, MailStatus.SENT),
        (MailKind.RENEWAL_DECLINED, f"{month}:attempt-2", MailStatus.SENT),
        (MailKind.RENEWAL_DECLINED, f"{month}:attempt-3", MailStatus.SENT),
    ]
    settled, answered = rows[1], rows[2]
    assert settled.data == {**answered.data, "attempt": 2}
    assert answered.data == {"month": month, "attempt": 3, "amount_minor": 1800, "currency": "USD"}
    received = sink.received()
    assert sorted(str(m["Message-ID"]) for m in received) == sorted(
        f"<{r.mail_id}@{SENDER_DOMAIN}>" for r in rows
    )
    by_id = {str(m["Message-ID"]): m for m in received}
    mailed = [by_id[f"<{r.mail_id}@{SENDER_DOMAIN}>"] for r in (settled, answered)]
    assert {str(m["Subject"]) for m in mailed} == {
        "Another charge for your SMS add-on was declined"
    }
    assert text_of(mailed[0]).replace("Attempt 2 ", "Attempt 3 ") == text_of(mailed[1])


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

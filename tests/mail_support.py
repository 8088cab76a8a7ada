"""Plumbing of the mail tests: a real SMTP server (aiosmtpd, the sink `make run` uses)
on a reserved port, the real worker with mail turned on, and the outbox's rows."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import worker
from contracts.mail import mail_workflow_id
from devstack.mail_sink import MailDir, serve
from domain.mail import MailStatus
from store.mail import account_mail
from store.mail_models import MailMessage
from tests.event_support import (
    Account,
    active_account,
    put_settings,
    send,
    until,
)
from tests.ports import HOST, start_on_reserved_ports
from tests.support import activity_deps, api_client, settings_for
from workflows.event_delivery import EventSweepWorkflow

START_CREDITS, THRESHOLD = 400, 100
SENDER = "SMS add-on <billing@sms-addon.test>"
SENDER_DOMAIN = "sms-addon.test"


class Refusing(MailDir):
    """A server that answers "try again later" (451) to the first ``refusals`` messages."""

    def __init__(self, directory: Path, refusals: int) -> None:
        super().__init__(directory)
        self.refusals = refusals

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Sink:
    """A running SMTP server and what it kept."""

    handler: MailDir
    controller: Controller
    port: int

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def received(self) -> list[EmailMessage]:
        """Every message the server accepted, oldest first (a resent copy too)."""
        return [parse(path.read_bytes()) for path in self.handler.messages()]

    def mailbox(self) -> list[EmailMessage]:
        """What a mail program shows: copies of one ``Message-ID`` dropped."""
        seen: dict[str, EmailMessage] = {}
        for message in self.received():
            seen.setdefault(str(message["Message-ID"]), message)
        return list(seen.values())


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@contextmanager
def smtp_sink(directory: Path, handler: MailDir | None = None) -> Iterator[Sink]:
    """A real SMTP server on a reserved loopback port, keeping mail in ``directory``."""
    kept = handler or MailDir(directory)

    def start(ports: list[int]) -> Sink:
        return Sink(kept, serve(kept, HOST, ports[0]), ports[0])

    sink = start_on_reserved_ports(1, start)
    try:
        yield sink
    finally:
        sink.controller.stop()


@asynccontextmanager
async def mail_worker(
    client: Client,
    sessions: sessionmaker[DbSession],
    task_queue: str,
    smtp_url: str | None,
    *,
    stand_ins: list[Any] | None = None,
    **mail_settings: Any,
) -> AsyncIterator[Worker]:
    """The real worker, mail on when ``smtp_url`` is given (``mail_settings``: the
    ``sms_mail_*`` settings)."""
    settings = settings_for(
        "sqlite://", sms_smtp_url=smtp_url or "", sms_mail_from=SENDER, **mail_settings
    )
    deps = dataclasses.replace(activity_deps(client, sessions), mailer=settings.mailer)
    async with worker.build_worker(client, deps, task_queue, stand_ins=stand_ins or []) as w:
        yield w


@dataclass
class Watched:
    """An account with a low-balance threshold, its API and its task queue."""

    account: Account
    api: httpx.AsyncClient
    task_queue: str

    async def send(self, recipients: int) -> None:
        assert (await send(self.api, self.account, recipients)).status_code == 200


@asynccontextmanager
async def watched_account(
    env: WorkflowEnvironment,
    sessions: sessionmaker[DbSession],
    database_url: str,
    smtp_url: str | None,
    **mail_settings: Any,
) -> AsyncIterator[Watched]:
    """An active account holding 400 credits, alerted below 100, with the API and the
    worker (mail to ``smtp_url``): a send of 80 recipients crosses the threshold."""
    account = active_account(sessions, START_CREDITS, datetime.now(UTC))
    settings = settings_for(database_url)
    queue = settings.sms_task_queue
    async with (
        mail_worker(env.client, sessions, queue, smtp_url, **mail_settings),
        api_client(settings, env.client) as api,
    ):
        await put_settings(api, account, {"low_balance_threshold": THRESHOLD})
        yield Watched(account, api, queue)


def outbox(sessions: sessionmaker[DbSession], account_id: str) -> list[MailMessage]:
    with sessions() as session:
        rows = account_mail(session, account_id)
        session.expunge_all()
        return rows


async def sweep(client: Client, task_queue: str) -> None:
    """Run the event sweep once: it starts the mail that activities wrote."""
    await client.execute_workflow(
        EventSweepWorkflow.run, id=f"sweep-{task_queue}", task_queue=task_queue
    )


async def sent(
    env: WorkflowEnvironment,
    sessions: sessionmaker[DbSession],
    account_id: str,
    *,
    skip_time: bool = True,
) -> list[MailMessage]:
    """The account's mail once every message's workflow has completed: awaited with the
    waits between attempts skipped on the time-skipping server, or (``skip_time``
    False, where a subscription's month must not pass meanwhile) in real time."""
    if not skip_time:
        return await settled_mail(sessions, account_id)
    for row in outbox(sessions, account_id):
        handle = env.client.get_workflow_handle(mail_workflow_id(account_id, row.mail_id))
        # A handle the test did not start does not skip time by itself.
        async with env.time_skipping_unlocked():  # type: ignore[attr-defined]
            await handle.result()
    rows = outbox(sessions, account_id)
    assert all(row.status != MailStatus.PENDING for row in rows), rows
    return rows


async def settled_mail(sessions: sessionmaker[DbSession], account_id: str) -> list[MailMessage]:
    return await until(
        lambda: outbox(sessions, account_id),
        lambda rows: all(row.status != MailStatus.PENDING for row in rows),
        "the mail",
    )


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())

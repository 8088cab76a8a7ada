"""Receipts by mail to a real SMTP server: a pt-BR account in reais gets each receipt
(its PDF attached) at its billing email, in Portuguese, a refund's too; a send whose
answer was lost after the server took the message is not sent again, and one lost
before it was recorded is resent with the same Message-ID, so the mailbox shows one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from typing import Any

from temporalio import activity

from activities.mail import MailActivities
from contracts.mail import MailDelivery
from domain.billing_details import BillingDetails
from domain.mail import MailKind, MailStatus
from outbound.smtp import Mailer
from store.billing_details import save_billing_details
from store.db import transaction
from tests.invariants import check_money
from tests.mail_support import SENDER, SENDER_DOMAIN, mail_worker, sent, smtp_sink, sweep, text_of
from tests.operator_support import ops_post
from tests.purchase_support import Shop, open_shop
from tests.support import ADMIN_TOKEN, activity_deps, bearer, settings_for

ADDON = {"type": "addon", "tier": "sms-1000"}
PACK = {"type": "credit_pack", "pack": "pack-1000"}
FINANCE = "financeiro@cliente.test"
# The add-on's month must not pass while a mail waits to be retried: real-time waits.
QUICK_RETRY_SECONDS = 0.2


async def brazilian(shop: Shop) -> None:
    """The account in pt-BR and reais, with its billing details (a CNPJ)."""
    changed = await shop.api.put(
        f"/v1/admin/accounts/{shop.account_id}",
        json={"locale": "pt-BR", "currency": "BRL"},
        headers=bearer(ADMIN_TOKEN),
    )
    assert changed.status_code == 200, changed.text
    details = BillingDetails.model_validate(
        {
            "legal_name": "Cliente Exemplo Ltda.",
            "tax_id": "11.444.777/0001-61",
            "email": FINANCE,
            "address": {"line1": "Rua Augusta, 500", "city": "São Paulo", "country": "BR"},
        }
    )
    with transaction(shop.sessions) as session:
        save_billing_details(session, shop.account_id, details, shop.now)


class AnswerLost:
    """``send_mail`` whose first answer is lost: after the real send recorded the
    message sent (``recorded``), or right after the server took it (not recorded)."""

    def __init__(self, real: MailActivities, mailer: Mailer, *, recorded: bool) -> None:
        self.real, self.mailer, self.recorded, self.lost = real, mailer, recorded, False

    @activity.defn(name="send_mail")
    def send_mail(self, delivery: MailDelivery) -> MailStatus:
        if self.lost:
            return self.real.send_mail(delivery)
        self.lost = True
        if self.recorded:
            self.real.send_mail(delivery)
        else:
            outgoing = self.real.compose(delivery, self.mailer)
            assert not isinstance(outgoing, MailStatus) and outgoing is not None
            self.mailer.send(outgoing.message)
        raise TimeoutError("the worker lost the answer after the server took the message")


def lost_answer(env: Any, sessions: Any, url: str, *, recorded: bool) -> AnswerLost:
    mailer = settings_for("sqlite://", sms_smtp_url=url, sms_mail_from=SENDER).mailer
    assert mailer is not None
    deps = activity_deps(env.client, sessions)
    real = MailActivities(type(deps)(**{**deps.__dict__, "mailer": mailer}))
    return AnswerLost(real, mailer, recorded=recorded)


@asynccontextmanager
async def shop_losing_an_answer(
    env: Any, sessions: Any, database_url: str, smtp_url: str, stand_in: AnswerLost
) -> AsyncIterator[Shop]:
    """A shop whose worker mails to ``smtp_url`` through ``stand_in``."""
    async with (
        open_shop(env, sessions, database_url, worker=False) as shop,
        mail_worker(
            env.client,
            sessions,
            shop.task_queue,
            smtp_url,
            stand_ins=[stand_in.send_mail],
            sms_mail_first_backoff_seconds=QUICK_RETRY_SECONDS,
        ),
    ):
        yield shop


def attachment_of(message: EmailMessage) -> tuple[str, bytes]:
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    return str(part.get_filename()), bytes(part.get_content())


async def test_receipts_are_mailed_in_portuguese_with_their_pdf_once(
    time_skipping_env, sqlite_sessions, sqlite_url, tmp_path
):
    env, sessions = time_skipping_env, sqlite_sessions
    with smtp_sink(tmp_path / "mail") as sink:
        stand_in = lost_answer(env, sessions, sink.url, recorded=True)
        async with shop_losing_an_answer(env, sessions, sqlite_url, sink.url, stand_in) as shop:
            await brazilian(shop)
            addon = await shop.bought(ADDON)
            await shop.bought(PACK)
            await sweep(env.client, shop.task_queue)  # receipts are written by activities
            first, second = await sent(env, sessions, shop.account_id, skip_time=False)
            refund = await ops_post(
                shop,
                "/refunds",
                {
                    "payment_id": addon["payment"]["payment_id"],
                    "amount_minor": 500,
                    "reason": "goodwill",
                },
                key="refund-1",
            )
            assert refund.status_code == 201, refund.text
            await sweep(env.client, shop.task_queue)
            rows = await sent(env, sessions, shop.account_id, skip_time=False)
            check_money(sessions, shop.account_id)
    assert stand_in.lost  # the first send's answer was lost, and it was retried
    assert [(r.kind, r.status, r.sent_to) for r in rows] == [
        (MailKind.RECEIPT, MailStatus.SENT, FINANCE)
    ] * 3
    assert [r.data["kind"] for r in rows] == ["payment", "payment", "refund"]
    assert len(sink.received()) == 3  # the retry after the lost answer sent nothing again
    by_id = {str(m["Message-ID"]): m for m in sink.received()}
    received = [by_id[f"<{r.mail_id}@{SENDER_DOMAIN}>"] for r in rows]
    one, _, back = received
    numbers = [first.data["number"], second.data["number"]]
    assert int(numbers[1][-6:]) == int(numbers[0][-6:]) + 1  # consecutive
    assert one["Subject"] == f"Seu recibo {numbers[0]}"
    assert one["To"] == FINANCE and one["Content-Language"] == "pt-BR"
    assert "Obrigado pelo seu pagamento de R$" in text_of(one)
    assert back["Subject"] == f"Seu recibo de reembolso {rows[2].data['number']}"
    assert "Reembolsamos R$\xa05,00." in text_of(back)
    for message, row in zip(received, rows, strict=True):
        name, pdf = attachment_of(message)
        assert name == f"{row.data['number']}.pdf" and pdf.startswith(b"%PDF")


async def test_a_send_lost_before_its_record_is_resent_with_the_same_message_id(
    time_skipping_env, sqlite_sessions, sqlite_url, tmp_path
):
    env, sessions = time_skipping_env, sqlite_sessions
    with smtp_sink(tmp_path / "mail") as sink:
        stand_in = lost_answer(env, sessions, sink.url, recorded=False)
        async with shop_losing_an_answer(env, sessions, sqlite_url, sink.url, stand_in) as shop:
            await shop.bought(ADDON)
            await sweep(env.client, shop.task_queue)
            [row] = await sent(env, sessions, shop.account_id, skip_time=False)
    assert row.status == MailStatus.SENT
    copy, resent = sink.received()  # the server took it twice …
    assert copy["Message-ID"] == resent["Message-ID"] == f"<{row.mail_id}@{SENDER_DOMAIN}>"
    assert attachment_of(copy) == attachment_of(resent)  # … the same message,
    assert len(sink.mailbox()) == 1  # which a mail program shows once
    assert copy["To"] == f"ana@{shop.account_id}.test"  # no billing details: the admin
    assert copy["Subject"].startswith("Your receipt SMS-")

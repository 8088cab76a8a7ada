"""The parts of mail without a workflow: both languages complete, figures in the
account's format, SMTP URLs and their secrets, the retry's waits, and the sink `make
run` starts (a real process, given a message by a real SMTP client)."""

from __future__ import annotations

import io
import logging
import re
import smtplib
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from config.settings import Settings, secrets_of
from domain.enums import Locale
from domain.mail import MailKind
from observability.logs import make_formatter
from outbound.mail_message import build_message
from outbound.mail_texts import GREETING, SIGNATURE, TEXTS, letter
from outbound.smtp import Security, SmtpServer
from tests.mail_support import parse
from tests.ports import HOST, free_port

FIELDS = re.compile(r"{(\w+)}")
SINK_TIMEOUT_SECONDS = 30.0


def placeholders(text: str) -> set[str]:
    return set(FIELDS.findall(text))


def test_every_text_is_in_both_languages_with_the_same_fields():
    assert set(TEXTS) == set(Locale) == set(GREETING) == set(SIGNATURE)
    english = TEXTS[Locale.EN]
    for locale, texts in TEXTS.items():
        assert set(texts) == set(english), locale
        for name, text in texts.items():
            assert placeholders(text.subject) == placeholders(english[name].subject), name
            assert len(text.paragraphs) == len(english[name].paragraphs), (locale, name)
            for mine, theirs in zip(text.paragraphs, english[name].paragraphs, strict=True):
                assert placeholders(mine) == placeholders(theirs), (locale, name)


@pytest.mark.parametrize("locale", list(Locale))
def test_every_kind_has_its_words(locale: Locale):
    samples: dict[MailKind, list[dict[str, Any]]] = {
        MailKind.RECEIPT: [
            {"kind": kind, "number": "SMS-2026-000001", "amount_minor": 1, "currency": "USD"}
            | {"date": "2026-12-02T00:00:00+00:00"}
            for kind in ("payment", "refund")
        ],
        MailKind.PAST_DUE: [{"month": "2026-12-01"}],
        MailKind.RENEWAL_DECLINED: [
            {"month": "2026-12-01", "attempt": 2, "amount_minor": 1800, "currency": "USD"}
        ],
        MailKind.LOW_BALANCE: [{"balance": 80, "threshold": 100}],
        MailKind.ADDON_ENDED: [
            {"status": status, "date": "2026-12-02T00:00:00+00:00"}
            for status in ("cancelled", "suspended")
        ],
    }
    assert set(samples) == set(MailKind)
    for kind, datas in samples.items():
        for data in datas:
            words = letter(kind, data, locale)
            assert "{" not in words.subject + "".join(words.paragraphs), (kind, data)


def test_figures_are_written_as_the_language_writes_them():
    data = {"month": "2027-01-02", "attempt": 2, "amount_minor": 123456, "currency": "BRL"}
    portuguese = " ".join(letter(MailKind.RENEWAL_DECLINED, data, Locale.PT_BR).paragraphs)
    assert "cobrar R$\xa01.234,56" in portuguese and "2 de janeiro de 2027" in portuguese
    english = " ".join(letter(MailKind.RENEWAL_DECLINED, data, Locale.EN).paragraphs)
    assert "charge R$1,234.56" in english and "January 2, 2027" in english
    low = letter(MailKind.LOW_BALANCE, {"balance": 1500, "threshold": 2000}, Locale.PT_BR)
    assert "1.500 créditos" in low.paragraphs[1] and "de 2.000." in low.paragraphs[1]


def test_a_message_has_text_and_html_and_the_same_message_id_every_time():
    words = letter(MailKind.PAST_DUE, {"month": "2027-01-02"}, Locale.EN)

    def built() -> EmailMessage:
        return build_message(
            mail_id="mail_abc",
            sender="Billing <billing@example.com>",
            to="ana@example.com",
            written_at=datetime(2027, 1, 2, tzinfo=UTC),
            letter=words,
        )

    one, two = built(), built()
    assert one["Message-ID"] == two["Message-ID"] == "<mail_abc@example.com>"
    assert [p.get_content() for p in one.iter_parts()] == [
        p.get_content() for p in two.iter_parts()
    ]
    assert [part.get_content_type() for part in one.iter_parts()] == ["text/plain", "text/html"]


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://127.0.0.1:1025", SmtpServer(Security.PLAIN, "127.0.0.1", 1025)),
        (
            "smtp+starttls://mail.example.com",
            SmtpServer(Security.STARTTLS, "mail.example.com", 587),
        ),
        (
            "smtps://billing%40example.com:p%3Ass@mail.example.com",
            SmtpServer(Security.TLS, "mail.example.com", 465, "billing@example.com", "p:ss"),
        ),
    ],
)
def test_smtp_urls(url: str, server: SmtpServer):
    assert Settings(sms_smtp_url=url).smtp_server == server


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_a_bad_smtp_url_is_refused_without_echoing_it(url: str):
    with pytest.raises(ValidationError, match="sms_smtp_url") as refused:
        Settings(sms_smtp_url=f"{url}?password=hunter2")
    assert "hunter2" not in str(refused.value)


def test_mail_is_off_without_a_url_and_the_password_never_logged():
    assert Settings(sms_smtp_url="").mailer is None
    settings = Settings(sms_smtp_url="smtps://ana:hunter2@mail.example.com")
    assert {"hunter2", "smtps://ana:hunter2@mail.example.com"} <= set(secrets_of(settings))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(make_formatter("text", secrets_of(settings)))
    log = logging.getLogger("sms_addon.test_mail")
    log.addHandler(handler)
    try:
        log.warning(
            "cannot reach %s (password %s)", settings.sms_smtp_url.get_secret_value(), "hunter2"
        )
    finally:
        log.removeHandler(handler)
    assert "hunter2" not in stream.getvalue()


def test_the_retry_doubles_up_to_the_longest_wait_for_about_a_day():
    mailer = Settings(sms_smtp_url="smtp://127.0.0.1:1025").mailer
    assert mailer is not None
    retry = mailer.retry
    waits = [retry.backoff(n) for n in range(1, retry.attempts)]
    assert waits[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert max(waits) == retry.longest_backoff == timedelta(hours=1)
    assert timedelta(hours=20) < sum(waits, timedelta()) < timedelta(hours=26)
    assert retry.backoff(10_000) == retry.longest_backoff


def test_the_sink_keeps_each_message_as_a_file(tmp_path: Path):
    port, directory = free_port(), tmp_path / "mail"
    sink = subprocess.Popen(
        [sys.executable, "-m", "devstack.mail_sink", "--port", str(port), "--dir", str(directory)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None
        assert f"keeping mail in {directory}/" in sink.stdout.readline()
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "Oi"
        message.set_content("Olá")
        deadline = time.monotonic() + SINK_TIMEOUT_SECONDS
        with smtplib.SMTP(HOST, port, timeout=SINK_TIMEOUT_SECONDS) as client:
            client.send_message(message)
        while not list(directory.glob("*.eml")):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        sink.terminate()
        assert sink.wait(timeout=SINK_TIMEOUT_SECONDS) == 0
    [kept] = directory.glob("*.eml")
    assert parse(kept.read_bytes())["Subject"] == "Oi"
    assert list(directory.glob(".*")) == []  # nothing half-written left behind

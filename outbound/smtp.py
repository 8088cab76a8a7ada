"""Handing a message to the SMTP server named by ``SMS_SMTP_URL``.

The standard library's ``smtplib``: the send runs in a synchronous activity on the
worker's thread pool, beside the database read and the receipt's PDF it needs, so an
asyncio client would buy nothing, and smtplib is one dependency fewer.

``smtp://host:port`` speaks plain SMTP (a local relay or sink), ``smtp+starttls://``
upgrades the connection with STARTTLS, ``smtps://`` is TLS from the first byte; a
user and password in the URL log in (they are secrets: the logs redact them).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from contracts.mail import MailRetry


class Security(StrEnum):
    PLAIN = "smtp"
    STARTTLS = "smtp+starttls"
    TLS = "smtps"


DEFAULT_PORTS = {Security.PLAIN: 25, Security.STARTTLS: 587, Security.TLS: 465}


class MailNotAccepted(Exception):
    """The server was unreachable or did not take the message; a later attempt may."""


class MailRefused(MailNotAccepted):
    """The server refused the message or its recipient for good (a 5xx reply to them)."""


# SMTP replies from 500 on are permanent (RFC 5321 §4.2.1): no retry changes them.
PERMANENT_REPLY = 500


@dataclass(frozen=True)
class SmtpServer:
    security: Security
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """``ValueError`` naming what is wrong (never the password)."""
        parts = urlsplit(url)
        try:
            security = Security(parts.scheme.lower())
        except ValueError:
            schemes = ", ".join(f"{s.value}://" for s in Security)
            raise ValueError(f"SMS_SMTP_URL must start with one of {schemes}") from None
        if not parts.hostname:
            raise ValueError("SMS_SMTP_URL names no host")
        return cls(
            security=security,
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[security],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def send(self, message: EmailMessage, timeout: float) -> None:
        """Deliver ``message`` to this server; ``MailNotAccepted`` when it could not."""
        try:
            with self._connect(timeout) as smtp:
                if self.security is Security.STARTTLS:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            failure = MailRefused if min(codes) >= PERMANENT_REPLY else MailNotAccepted
            raise failure(f"{self.host}:{self.port}: recipient refused: {exc.recipients}") from None
        except smtplib.SMTPDataError as exc:
            failure = MailRefused if exc.smtp_code >= PERMANENT_REPLY else MailNotAccepted
            raise failure(f"{self.host}:{self.port}: {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            # The reply or the connection error, without the URL (it holds the password).
            raise MailNotAccepted(f"{self.host}:{self.port}: {exc}") from None

    def _connect(self, timeout: float) -> smtplib.SMTP:
        if self.security is Security.TLS:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=timeout)


@dataclass(frozen=True)
class Mailer:
    """Mail as the settings turn it on: the server, the sender, and how each message
    is retried (``retry.attempt_timeout`` also bounds each SMTP wait)."""

    server: SmtpServer
    sender: str
    retry: MailRetry

    def send(self, message: EmailMessage) -> None:
        self.server.send(message, self.retry.attempt_timeout.total_seconds())

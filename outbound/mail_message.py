"""One message as it goes on the wire: plain text with a simple HTML alternative, and
an attachment where the kind has one (a receipt's PDF). Built with the standard
library's ``email.message.EmailMessage``; the same outbox row always builds the same
headers, so every attempt carries the same ``Message-ID``."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from domain.mail import message_id
from outbound.mail_texts import Letter


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


def sender_domain(sender: str) -> str:
    """The domain of ``SMS_MAIL_FROM`` (``Billing <billing@example.com>`` → example.com)."""
    _, address = parseaddr(sender)
    return Address(addr_spec=address).domain


def build_message(
    *,
    mail_id: str,
    sender: str,
    to: str,
    written_at: datetime,
    letter: Letter,
    attachment: Attachment | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = letter.subject
    message["Date"] = format_datetime(written_at)
    message["Message-ID"] = message_id(mail_id, sender_domain(sender))
    message.set_content("\n\n".join(letter.paragraphs) + "\n")
    message.add_alternative(_html(letter), subtype="html")
    if attachment is not None:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    # After the body: building it replaces the message's Content-* headers.
    message["Content-Language"] = letter.locale.value
    return message


def _html(letter: Letter) -> str:
    lang = html.escape(letter.locale.value)
    body = "\n".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in letter.paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(letter.subject)}</title></head>\n"
        f'<body style="font-family: sans-serif; line-height: 1.5">\n{body}\n</body></html>\n'
    )

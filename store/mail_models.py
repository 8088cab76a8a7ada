"""The mail outbox: one row per message, written in the transaction of its fact.

Registered on ``store.models.Base`` (imported at the end of that module)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models import ID, KEY, Base


class MailMessage(Base):
    """A message to an account, once per (account, kind, reference); ``data`` holds
    the figures its text needs, as they were at the fact. The recipient and language
    are read when it is sent, so a billing email changed meanwhile is the one used."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "reference", name="uq_mail_once"),
        Index("ix_mail_outbox_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mail_id: Mapped[str] = mapped_column(ID, unique=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(KEY)
    data: Mapped[dict[str, Any]]
    # pending, then sent / failed / skipped (domain.mail.MailStatus)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]
    sent_to: Mapped[str | None] = mapped_column(String(320))
    detail: Mapped[str | None] = mapped_column(Text)  # why it failed or was skipped

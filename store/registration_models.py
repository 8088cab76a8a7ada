"""The table of the US A2P 10DLC registrations.

Registered on ``store.models.Base`` (imported at the end of that module)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models import ID, Base


class A2pRegistration(Base):
    """A2P 10DLC registration of an account for US sending."""

    __tablename__ = "a2p_registrations"

    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    brand: Mapped[dict[str, Any]]
    campaign: Mapped[dict[str, Any]]
    submission: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]

"""The tables of the credit ledger: blocks of granted credits, each with its own
expiry, and the append-only entries that spend and grant them.

Registered on ``store.models.Base`` (imported at the end of that module)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models import ID, KEY, Base


class CreditGrant(Base):
    """A block of credits with its own expiry; debits spend the soonest-expiring first."""

    __tablename__ = "credit_grants"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= credits", name="ck_grants_remaining"),
        Index("ix_grants_spendable", "account_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"))
    source: Mapped[str] = mapped_column(String(16))
    credits: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    reference: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(KEY, unique=True)


class CreditEntry(Base):
    """The append-only ledger: signed credits with the balance after each entry."""

    __tablename__ = "credit_entries"
    __table_args__ = (
        CheckConstraint("balance_after >= 0", name="ck_entries_balance"),
        Index("ix_entries_account_at", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("credit_grants.id"))
    kind: Mapped[str] = mapped_column(String(16))
    credits: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    reference: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(KEY, unique=True)

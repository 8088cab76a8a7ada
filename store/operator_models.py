"""The tables of operator actions: refund requests and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models import ID, KEY, Base


class RefundRequest(Base):
    """An operator's refund, recorded under its request key before the gateway is
    called: its amount counts against the capture from then on, so two refunds can
    never together exceed it."""

    __tablename__ = "refund_requests"
    __table_args__ = (
        UniqueConstraint("account_id", "request_key", name="uq_refund_request_key"),
        Index("ix_refund_requests_payment", "payment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"))
    request_key: Mapped[str] = mapped_column(KEY)
    payment_id: Mapped[str] = mapped_column(ID)
    amount_minor: Mapped[int] = mapped_column(Integer)
    revoke_credits: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # requested, refunded, failed
    refund_payment_id: Mapped[str | None] = mapped_column(ID)
    credits_revoked: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AuditRecord(Base):
    """One operator action: who, when, what, on which account, why, and the ledger
    entry or payment it wrote. Once per (account, action, request key)."""

    __tablename__ = "audit_records"
    __table_args__ = (
        UniqueConstraint("account_id", "action", "request_key", name="uq_audit_request"),
        Index("ix_audit_account", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"))
    action: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    reference: Mapped[str | None] = mapped_column(String(255))
    request_key: Mapped[str] = mapped_column(KEY)
    at: Mapped[datetime]

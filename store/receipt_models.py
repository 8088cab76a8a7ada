"""The tables of billing details and receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models import ID, Base


class BillingDetailsRow(Base):
    """Whom the account's receipts are made out to (``domain.billing_details``), with
    the tax id normalised."""

    __tablename__ = "billing_details"

    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"), primary_key=True)
    details: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class ReceiptCounter(Base):
    """The last receipt number issued in a year. Its row is locked by the transaction
    that issues the next number, so numbers are consecutive and a rolled-back payment
    gives its number back."""

    __tablename__ = "receipt_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class ReceiptRow(Base):
    """A receipt as issued: what it says never changes afterwards."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("year", "sequence", name="uq_receipt_sequence"),
        Index("ix_receipts_account", "account_id", "issued_at"),
    )

    receipt_id: Mapped[str] = mapped_column(ID, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # One receipt per payment: issuing again finds it.
    payment_id: Mapped[str] = mapped_column(ID, ForeignKey("payments.payment_id"), unique=True)
    refunds: Mapped[str | None] = mapped_column(ID, ForeignKey("receipts.receipt_id"))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    billed_to: Mapped[dict[str, Any]]
    seller: Mapped[dict[str, Any]]
    issued_at: Mapped[datetime]

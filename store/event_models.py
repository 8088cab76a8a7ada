"""Tables of alerts, events and auto top-up (API.md "Alerts, events and auto top-up").

Registered on ``store.models.Base`` (imported at the end of that module)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from store.models import ID, KEY, Base

DELIVERY_ERROR_CHARS = 500


class AlertSettings(Base):
    """An account's low-balance threshold, auto top-up and webhook. The webhook secret
    is kept as issued (not hashed): every delivery must be signed with it."""

    __tablename__ = "alert_settings"

    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"), primary_key=True)
    low_balance_threshold: Mapped[int | None] = mapped_column(Integer)
    # Auto top-up: the pack, its credits and price as they were when the customer
    # opted in (the consent covers that price), the trigger and the monthly cap.
    top_up_pack: Mapped[str | None] = mapped_column(String(64))
    top_up_credits: Mapped[int | None] = mapped_column(Integer)
    top_up_price_minor: Mapped[int | None] = mapped_column(Integer)
    top_up_currency: Mapped[str | None] = mapped_column(String(3))
    top_up_below: Mapped[int | None] = mapped_column(Integer)
    top_up_max_per_month: Mapped[int | None] = mapped_column(Integer)
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime]


class AccountEvent(Base):
    """One event, written in the transaction of its fact, once per key."""

    __tablename__ = "account_events"
    __table_args__ = (
        Index("ix_account_events_account", "account_id", "id"),
        Index("ix_account_events_delivery", "delivery_status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ID, unique=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"))
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    at: Mapped[datetime]
    idempotency_key: Mapped[str] = mapped_column(KEY, unique=True)
    # pending / delivered / dropped / failed; null when no webhook was set when it was
    # written (domain.events.DeliveryStatus).
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivered_at: Mapped[datetime | None]  # when the delivery ended, however it ended
    # The delivery round (0, then one more per operator redelivery), the POSTs it has
    # made so far and, once it failed, why.
    delivery_round: Mapped[int] = mapped_column(Integer, server_default="0")
    delivery_attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    delivery_error: Mapped[str | None] = mapped_column(String(DELIVERY_ERROR_CHARS))


class AutoTopUp(Base):
    """One auto top-up, claimed under the account's lock by the debit that left the
    balance below the trigger. The unique (account, credit month, sequence) with
    sequence < max_per_month caps a month; the partial unique index on in-flight rows
    allows one in flight per account. Its capture key is made from this row alone."""

    __tablename__ = "auto_top_ups"
    __table_args__ = (
        UniqueConstraint("account_id", "month_start", "sequence", name="uq_top_up_month_seq"),
        Index(
            "uq_top_up_in_flight",
            "account_id",
            unique=True,
            sqlite_where=text("status = 'in_flight'"),
            postgresql_where=text("status = 'in_flight'"),
        ),
    )

    top_up_id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"))
    month_start: Mapped[datetime]
    month_end: Mapped[datetime]
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    pack: Mapped[str] = mapped_column(String(64))
    credits: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    payment_id: Mapped[str | None] = mapped_column(ID)
    claimed_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]

"""The schema (DESIGN.md §4): its base, and the tables of the account and what it buys
and pays: its users, purchases, the add-on and its recurring lines, payments and the
payment provider's customer. Every idempotency key is unique in the database, so a
retried write finds its first result instead of writing twice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from domain.calendar import as_utc
from domain.enums import Currency, Locale


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always handed back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


ID = String(64)
KEY = String(255)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("credit_balance >= 0", name="ck_accounts_balance"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(32))
    billing_cycle: Mapped[str] = mapped_column(String(16))
    billing_anchor: Mapped[date] = mapped_column(Date)
    payment_method: Mapped[str] = mapped_column(String(64))
    # The one currency the account is priced and charged in (fixed once it has bought
    # anything), and the language of its receipts and mail.
    currency: Mapped[str] = mapped_column(
        String(3), default=Currency.USD.value, server_default=Currency.USD.value
    )
    locale: Mapped[str] = mapped_column(
        String(8), default=Locale.EN.value, server_default=Locale.EN.value
    )
    # Cached sum of the ledger; always written in the same transaction as an entry.
    credit_balance: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(32))
    billing_permission: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class AddonSubscription(Base):
    """The add-on of one account as the billing page shows it; the subscription
    workflow keeps it current."""

    __tablename__ = "addon_subscriptions"

    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    billing_cycle: Mapped[str] = mapped_column(String(16))
    monthly_credits: Mapped[int] = mapped_column(Integer)
    recurring_minor: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    next_charge_at: Mapped[datetime | None]
    next_charge_minor: Mapped[int | None] = mapped_column(Integer)
    # The next charge as the subscription priced it (domain.billing.BillingCharge.due_at).
    next_charge_cycle: Mapped[str | None] = mapped_column(String(16))
    next_charge_priced_at: Mapped[datetime | None]
    activated_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class SubscriptionItem(Base):
    """One recurring line of the add-on: its tier or a credit pack, added by a purchase."""

    __tablename__ = "subscription_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(64))
    credits_per_month: Mapped[int] = mapped_column(Integer)
    monthly_price_minor: Mapped[int] = mapped_column(Integer)
    annual_price_minor: Mapped[int] = mapped_column(Integer)
    purchase_id: Mapped[str] = mapped_column(ID, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[datetime]
    # A line counts from starts_at (a downgrade's new tier, from the next renewal) until
    # ends_at (a downgraded tier or an ended pack, at the next renewal); null: no bound.
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]


class Payment(Base):
    """Every capture, decline and refund the gateway answered, keyed by its idempotency key."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_account", "account_id", "created_at"),
        Index("ix_payments_status", "status", "created_at"),  # the janitor's open attempts
    )

    payment_id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    payment_method: Mapped[str] = mapped_column(String(64))
    refund_of: Mapped[str | None] = mapped_column(ID)
    decline_reason: Mapped[str | None] = mapped_column(String(255))
    reference: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(KEY, unique=True)
    # The sandbox's pm_card_flaky loses the first response; this records that it did.
    response_delivered: Mapped[bool] = mapped_column(Boolean, default=True)
    at: Mapped[datetime]
    created_at: Mapped[datetime]
    # The provider's own id (Stripe pi_…/re_…); null for the sandbox.
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    # What the money is for, line by line, as its receipt will list it (a purchase's
    # quote lines); null: one line, the reference.
    lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class ProviderCustomer(Base):
    """The payment provider's customer of an account (one Stripe Customer each), and
    which of the account's payment methods is attached to it under which provider id."""

    __tablename__ = "provider_customers"

    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"), primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(255), unique=True)
    # The account's payment_method last attached, and the id the provider gave it
    # (attaching a test token such as pm_card_visa yields a new pm_… id).
    payment_method: Mapped[str | None] = mapped_column(String(64))
    attached_method_ref: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Purchase(Base):
    """The durable record of a purchase and its outcome (histories are only kept so long)."""

    __tablename__ = "purchases"
    __table_args__ = (UniqueConstraint("account_id", "idempotency_key", name="uq_purchase_key"),)

    purchase_id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ID, ForeignKey("accounts.id"), index=True)
    user_id: Mapped[str] = mapped_column(ID)
    item_type: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    quote: Mapped[dict[str, Any] | None]
    payment_id: Mapped[str | None] = mapped_column(ID)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(KEY)
    # Set when the confirmed purchase took the right to its item (before any money
    # moved); the claim holds while the purchase has not ended.
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


# The tables of the credit ledger, of callers (tokens, sign-ins, request keys), of the
# A2P registration, of alerts, events and auto top-up, of mail, of operator actions, and
# of billing details and receipts live in modules of their own. Importing them here
# registers every table on Base whichever module is imported first: a foreign key's
# table must be known when a session flushes.
from store import caller_models as _caller_models  # noqa: E402, F401
from store import event_models as _event_models  # noqa: E402, F401
from store import ledger_models as _ledger_models  # noqa: E402, F401
from store import mail_models as _mail_models  # noqa: E402, F401
from store import operator_models as _operator_models  # noqa: E402, F401
from store import receipt_models as _receipt_models  # noqa: E402, F401
from store import registration_models as _registration_models  # noqa: E402, F401

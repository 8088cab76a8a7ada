"""Where an account's mail goes and in which language: read when it is sent, so a
billing email changed meanwhile is the one used."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.enums import Locale, Role
from store.billing_details import billing_details
from store.models import Account, User


def recipient(session: Session, account_id: str) -> str | None:
    """The billing email, else the primary admin's email (None: no one to write to)."""
    details = billing_details(session, account_id)
    if details is not None and details.email:
        return str(details.email)
    return session.scalars(
        select(User.email)
        .where(User.account_id == account_id, User.role == Role.PRIMARY_ADMIN.value)
        .order_by(User.created_at)
    ).first()


def locale_of(session: Session, account_id: str) -> Locale:
    """The language of the account's mail (and receipts)."""
    account = session.get(Account, account_id)
    return Locale.EN if account is None else Locale(account.locale)

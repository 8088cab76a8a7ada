"""The credit ledger: grants and expiries (DESIGN.md §4); debits are spent on the
send's hot path, ``store.debits``.

Every function runs inside the caller's transaction and first locks the
account row, so the cached balance, the grants' remainders and the ledger
move together and concurrent writers queue instead of losing updates. Each
write is idempotent by a unique key: a retry finds the first result.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.enums import EntryKind, GrantSource
from domain.errors import DomainError, ErrorCode
from observability import metrics
from store.ledger_models import CreditEntry, CreditGrant
from store.models import Account


def lock_account(session: Session, account_id: str) -> Account:
    """The account row, locked for this transaction (a no-op lock on SQLite, whose
    BEGIN IMMEDIATE already serialises writers)."""
    account = session.scalars(
        select(Account).where(Account.id == account_id).with_for_update()
    ).one_or_none()
    if account is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"Account {account_id} does not exist.")
    return account


def find_entry(session: Session, key: str) -> CreditEntry | None:
    return session.scalars(select(CreditEntry).where(CreditEntry.idempotency_key == key)).first()


def append_entry(
    session: Session,
    account: Account,
    *,
    kind: EntryKind,
    credits: int,
    at: datetime,
    reference: str,
    key: str,
    grant_id: int | None = None,
) -> CreditEntry:
    account.credit_balance += credits
    entry = CreditEntry(
        account_id=account.id,
        grant_id=grant_id,
        kind=kind.value,
        credits=credits,
        balance_after=account.credit_balance,
        at=at,
        reference=reference,
        idempotency_key=key,
    )
    session.add(entry)
    session.flush()
    return entry


def grant_credits(
    session: Session,
    *,
    account_id: str,
    source: GrantSource,
    credits: int,
    expires_at: datetime | None,
    at: datetime,
    reference: str,
    key: str,
) -> CreditGrant:
    """Add a block of credits; idempotent by ``key``."""
    account = lock_account(session, account_id)
    existing = session.scalars(
        select(CreditGrant).where(CreditGrant.idempotency_key == key)
    ).first()
    if existing is not None:
        return existing
    grant = CreditGrant(
        account_id=account_id,
        source=source.value,
        credits=credits,
        remaining=credits,
        granted_at=at,
        expires_at=expires_at,
        reference=reference,
        idempotency_key=key,
    )
    session.add(grant)
    session.flush()
    kind = EntryKind.ADJUST if source is GrantSource.ADJUSTMENT else EntryKind.GRANT
    append_entry(
        session,
        account,
        kind=kind,
        credits=credits,
        at=at,
        reference=reference,
        key=key,
        grant_id=grant.id,
    )
    metrics.count_on_commit(session, metrics.CREDITS_GRANTED, credits, source=source.value)
    return grant


def expire_grants(session: Session, *, account_id: str, at: datetime, reference: str) -> int:
    """Expire what remains of every grant that ends at or before ``at``; returns the
    credits expired. Idempotent: a grant expires once (key ``expire:{grant_id}``)."""
    account = lock_account(session, account_id)
    due = session.scalars(
        select(CreditGrant)
        .where(
            CreditGrant.account_id == account_id,
            CreditGrant.remaining > 0,
            CreditGrant.expires_at.is_not(None),
            CreditGrant.expires_at <= at,
        )
        .order_by(CreditGrant.id)
    ).all()
    return _expire(session, account, due, at=at, reference=reference)


def expire_all(session: Session, *, account_id: str, at: datetime, reference: str) -> int:
    """Expire every credit the account still holds (suspension, end of the add-on)."""
    account = lock_account(session, account_id)
    held = session.scalars(
        select(CreditGrant)
        .where(CreditGrant.account_id == account_id, CreditGrant.remaining > 0)
        .order_by(CreditGrant.id)
    ).all()
    return _expire(session, account, held, at=at, reference=reference)


def _expire(
    session: Session,
    account: Account,
    grants: Sequence[CreditGrant],
    *,
    at: datetime,
    reference: str,
) -> int:
    expired = 0
    for grant in grants:
        amount, grant.remaining = grant.remaining, 0
        expired += amount
        metrics.count_on_commit(session, metrics.CREDITS_EXPIRED, amount)
        append_entry(
            session,
            account,
            kind=EntryKind.EXPIRE,
            credits=-amount,
            at=at,
            reference=reference,
            key=f"expire:{grant.id}",
            grant_id=grant.id,
        )
    return expired

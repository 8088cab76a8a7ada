"""The debit fast path's statements (store/debits.py), built once: on the hot path,
constructing a statement costs as much as running it."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update

from store.balance_watch import WATCHED
from store.idempotency import REMEMBERED
from store.ledger_models import CreditEntry, CreditGrant
from store.models import Account, AddonSubscription
from store.registration_models import A2pRegistration

_accounts = cast(Table, Account.__table__)
_grants = cast(Table, CreditGrant.__table__)
_entries = cast(Table, CreditEntry.__table__)
_registrations = cast(Table, A2pRegistration.__table__)
_addons = cast(Table, AddonSubscription.__table__)

BALANCE = select(_accounts.c.credit_balance).where(_accounts.c.id == bindparam("account"))
BALANCE_LOCKED = BALANCE.with_for_update()
_ENTRY_COLUMNS = (_entries.c.idempotency_key, _entries.c.credits, _entries.c.balance_after)
SOME_ENTRIES = select(*_ENTRY_COLUMNS).where(
    _entries.c.idempotency_key.in_(bindparam("keys", expanding=True))
)
SPENDABLE = (
    select(_grants.c.id, _grants.c.remaining)
    .where(
        _grants.c.account_id == bindparam("account"),
        _grants.c.remaining > 0,
        or_(_grants.c.expires_at.is_(None), _grants.c.expires_at > bindparam("at")),
    )
    .order_by(_grants.c.expires_at.is_(None), _grants.c.expires_at, _grants.c.id)
)
SPEND_GRANT = (
    update(_grants)
    .where(_grants.c.id == bindparam("grant"))
    .values(remaining=_grants.c.remaining - bindparam("spent"))
)
SET_BALANCE = (
    update(_accounts)
    .where(_accounts.c.id == bindparam("account"))
    .values(credit_balance=bindparam("balance"))
)
ADD_ENTRIES = insert(_entries)
ENTRY_FIELDS = (
    "account_id",
    "grant_id",
    "kind",
    "credits",
    "balance_after",
    "at",
    "reference",
    "idempotency_key",
)
# PostgreSQL, a send that spends from one grant (nearly all): its three writes in one
# statement, one round trip instead of three. The bind names match no column of
# credit_grants or accounts on purpose: SQLAlchemy adds every parameter named like a
# column of a CTE's table to that UPDATE's SET.
WRITE_ONE_SEND = (
    insert(_entries)
    .values({name: bindparam(f"entry_{name}") for name in ENTRY_FIELDS})
    .add_cte(
        update(_grants)
        .where(_grants.c.id == bindparam("w_grant"))
        .values(remaining=_grants.c.remaining - bindparam("w_spent"))
        .cte("spend_grant"),
        update(_accounts)
        .where(_accounts.c.id == bindparam("w_account"))
        .values(credit_balance=bindparam("w_balance"))
        .cte("set_balance"),
    )
)
REGISTRATION = select(_registrations.c.status).where(
    _registrations.c.account_id == bindparam("account")
)
_ADDON = (
    select(_addons.c.status)
    .where(_addons.c.account_id == bindparam("account"))
    .scalar_subquery()
    .label("addon")
)
# What a debit reads once it holds the account's lock, in one statement (one round
# trip on PostgreSQL, not three): the add-on's status, whether alerts watch the
# account, and for a single send what its key debited before, if it did.
STATE = select(_ADDON, WATCHED)
_KEY_BEFORE = _entries.c.idempotency_key == bindparam("key")
STATE_AND_KEY = select(
    _ADDON,
    WATCHED,
    select(_entries.c.credits).where(_KEY_BEFORE).scalar_subquery().label("credits"),
    select(_entries.c.balance_after).where(_KEY_BEFORE).scalar_subquery().label("after"),
)
# PostgreSQL, a send with an Idempotency-Key: the same, and its fingerprint remembered
# (``store.idempotency.REMEMBERED``) in the same round trip.
STATE_KEY_AND_REQUEST = STATE_AND_KEY.add_columns(
    select(func.count()).select_from(REMEMBERED).scalar_subquery().label("remembered")
)

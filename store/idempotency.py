"""Idempotency-Key fingerprints (API.md Conventions): the first request under a key
is remembered as a digest of its method, path and canonical JSON body; the same
key with another request is refused, the same request again is let through so the
route answers its first result. Keys are stored as digests (fixed size), and kept
at least ``RETENTION``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from store.caller_models import RequestFingerprint
from store.db import transaction
from store.models import KEY

# API.md: "Keys are kept at least 24 hours". Rows are never deleted before that.
RETENTION = timedelta(hours=24)
_KEY_CHARS: int = KEY.length or 255


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(method: str, path: str, body: Any) -> str:
    """The same request gives the same digest whatever its key order or spacing."""
    canonical = json.dumps(
        [method.upper(), path, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return digest(canonical)


def bounded_key(*parts: str) -> str:
    """A ledger or payment idempotency key ``a:b:c`` that fits its column: a key too
    long for it ends in the digest of its last part (a client's Idempotency-Key)."""
    key = ":".join(parts)
    if len(key) <= _KEY_CHARS:
        return key
    return ":".join((*parts[:-1], f"sha256={digest(parts[-1])}"))


class KeyUse(Enum):
    FIRST = "first"  # the key's first request
    REPEAT = "repeat"  # the same request again (a retry, a double click)
    CONFLICT = "conflict"  # the key was first used for a different request


@dataclass(frozen=True)
class FirstRequest:
    """A request under an ``Idempotency-Key``, to be checked against the key's first one."""

    scope: str
    key: str
    method: str
    path: str
    body: Any
    now: datetime

    def row(self) -> dict[str, Any]:
        """The fingerprint row this request would leave as the key's first."""
        return {
            "scope": self.scope,
            "key_digest": digest(self.key),
            "method": self.method.upper(),
            "path": self.path[:255],
            "fingerprint": fingerprint(self.method, self.path, self.body),
            "created_at": self.now,
        }

    def use_on(self, connection: Connection) -> KeyUse:
        """Remember this request if it is the key's first, inside the caller's
        transaction (a debit records it in its own, under the account's lock), and
        say how it relates to the first. A concurrent first use of the same key
        (PostgreSQL, another transaction) makes the insert wait for it and do nothing;
        its row is then read like any earlier one."""
        row = self.row()
        inserted = connection.execute(_INSERT_NEW[connection.dialect.name], row).first()
        return judged(connection, row, inserted=inserted is not None)


def judged(connection: Connection, row: dict[str, Any], *, inserted: bool) -> KeyUse:
    """How the request of fingerprint ``row`` relates to its key's first, once the
    insert of ``row`` (unless the key was there) has run: ``inserted`` or not."""
    if inserted:
        return KeyUse.FIRST
    first = connection.scalar(_FIRST, {"scope": row["scope"], "key_digest": row["key_digest"]})
    if first is None:
        return KeyUse.CONFLICT  # vanished under us: never treat it as new
    return KeyUse.REPEAT if first == row["fingerprint"] else KeyUse.CONFLICT


def same_request(
    sessions: sessionmaker[Session],
    *,
    scope: str,
    key: str,
    method: str,
    path: str,
    body: Any,
    now: datetime,
) -> KeyUse:
    """Remember the first request under ``key`` and say how this one relates to it,
    in a transaction of its own."""
    request = FirstRequest(scope, key, method, path, body, now)
    with transaction(sessions) as session:
        return request.use_on(session.connection())


_fingerprints = cast(Table, RequestFingerprint.__table__)
_FIRST = select(_fingerprints.c.fingerprint).where(
    _fingerprints.c.scope == bindparam("scope"),
    _fingerprints.c.key_digest == bindparam("key_digest"),
)
# Both dialects spell "insert unless the key is there" the same way; built once each.
# It returns the row it inserted, none when the key was there: an INSERT's rowcount
# cannot tell (SQLAlchemy keeps it only for UPDATE and DELETE; with psycopg it is -1).
_INSERT_NEW = {
    dialect: insert(_fingerprints).on_conflict_do_nothing().returning(_fingerprints.c.scope)
    for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
# PostgreSQL: the same insert as a CTE of a statement that also reads (the debit's
# state after its lock), so remembering the request costs no round trip of its own.
# Its bind names ("request_<column>", ``remembered_binds``) are no column's name:
# SQLAlchemy would add such a parameter to every DML statement of that table.
REMEMBERED = (
    postgresql_insert(_fingerprints)
    .values({column.name: bindparam(f"request_{column.name}") for column in _fingerprints.c})
    .on_conflict_do_nothing()
    .returning(_fingerprints.c.scope)
    .cte("remembered")
)


def remembered_binds(row: dict[str, Any]) -> dict[str, Any]:
    return {f"request_{name}": value for name, value in row.items()}

"""Idempotency-Key fingerprints (API.md Conventions): the first request under a key
is remembered as a digest of its method, path and canonical JSON body; the same
key with another request is refused, the same request again is let through so the
route answers its first result. Keys are stored as digests (fixed size), and kept
at least ``RETENTION``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.models import KEY, RequestFingerprint

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
    """Remember the first request under ``key`` and say how this one relates to it."""
    wanted = fingerprint(method, path, body)
    ident = (scope, digest(key))

    def against(first: RequestFingerprint | None) -> KeyUse:
        if first is None:
            return KeyUse.CONFLICT  # vanished under us: never treat it as new
        return KeyUse.REPEAT if first.fingerprint == wanted else KeyUse.CONFLICT

    try:
        with transaction(sessions) as session:
            first = session.get(RequestFingerprint, ident)
            if first is not None:
                return against(first)
            session.add(
                RequestFingerprint(
                    scope=scope,
                    key_digest=ident[1],
                    method=method.upper(),
                    path=path[:255],
                    fingerprint=wanted,
                    created_at=now,
                )
            )
        return KeyUse.FIRST
    except IntegrityError:  # a concurrent request with the same key was first
        with sessions() as session:
            return against(session.get(RequestFingerprint, ident))

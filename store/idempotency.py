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


def same_request(
    sessions: sessionmaker[Session],
    *,
    scope: str,
    key: str,
    method: str,
    path: str,
    body: Any,
    now: datetime,
) -> bool:
    """Remember the first request under ``key``; False when ``key`` was first used
    for a different request (method, path or body)."""
    wanted = fingerprint(method, path, body)
    ident = (scope, digest(key))
    try:
        with transaction(sessions) as session:
            first = session.get(RequestFingerprint, ident)
            if first is not None:
                return first.fingerprint == wanted
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
        return True
    except IntegrityError:  # a concurrent request with the same key was first
        with sessions() as session:
            first = session.get(RequestFingerprint, ident)
            return first is not None and first.fingerprint == wanted

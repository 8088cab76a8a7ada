"""What the service keeps about its callers: their API tokens, their sign-ins to the
billing page, and the request each ``Idempotency-Key`` of theirs was first used for.

Registered on ``store.models.Base`` (imported at the end of that module)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models import ID, Base


class ApiToken(Base):
    """A bearer token, kept only as its SHA-256 digest."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "user_id"], ["users.account_id", "users.user_id"]),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]


class RequestFingerprint(Base):
    """The request an ``Idempotency-Key`` was first used for, so that the same key
    with another request answers 409 instead of the first result. The key is kept
    only as its SHA-256 digest: any key up to 255 characters fits, and none is shown."""

    __tablename__ = "request_fingerprints"

    # The account (or ``admin:{account}``) whose key it is: keys of two accounts never meet.
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)


class BillingPageSession(Base):
    """A sign-in to the billing page. The browser holds a random id; only its digest
    is kept here, with the digest of the API token it was opened with, so a revoked
    token ends the session too."""

    __tablename__ = "billing_page_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

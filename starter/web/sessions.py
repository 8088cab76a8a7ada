"""Sign-in sessions of the billing page and their CSRF tokens.

The browser holds only a random session id (HttpOnly, SameSite=Strict); the
database keeps its digest and the digest of the API token it was opened with.
Every request resolves that token as the JSON API does, so revoking the token
signs the page out too. The API token itself is never stored or sent back.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import delete
from sqlalchemy.orm import Session

from application.callers import Caller, caller_for_token_hash
from application.security import hash_token
from store.caller_models import BillingPageSession

SESSION_COOKIE = "sms_billing_session"
# Before sign-in there is no session: the sign-in form's CSRF token is a double-submit cookie.
SIGN_IN_COOKIE = "sms_billing_sign_in"
COOKIE_PATH = "/billing"


@dataclass(frozen=True)
class PageSession:
    caller: Caller
    csrf_token: str


def open_session(session: Session, api_token: str, lifetime: timedelta) -> tuple[str, bool]:
    """A new session for ``api_token``; returns (session id for the cookie, token known)."""
    token_hash = hash_token(api_token.strip())
    session_id = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with session.begin():
        if caller_for_token_hash(session, token_hash) is None:
            return "", False
        session.execute(delete(BillingPageSession).where(BillingPageSession.expires_at < now))
        session.add(
            BillingPageSession(
                session_hash=hash_token(session_id),
                token_hash=token_hash,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    return session_id, True


def current(session: Session, request: Request) -> PageSession | None:
    """The signed-in user of this request, or None (no cookie, expired, token revoked)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    row = session.get(BillingPageSession, hash_token(session_id))
    if row is None or row.expires_at <= datetime.now(UTC):
        return None
    caller = caller_for_token_hash(session, row.token_hash)
    return None if caller is None else PageSession(caller, row.csrf_token)


def close_session(session: Session, request: Request) -> None:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        with session.begin():
            session.execute(
                delete(BillingPageSession).where(
                    BillingPageSession.session_hash == hash_token(session_id)
                )
            )


def same_token(given: str, expected: str) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given, expected)


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )

"""Bearer tokens: random, shown once, stored only as a SHA-256 digest."""

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "sms_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast digest is enough (no password stretching).
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())

"""Webhook signatures per the Standard Webhooks specification (the ``standardwebhooks``
package, which exists for most languages, so receivers verify with a library too).

A message carries ``webhook-id`` (our ``event_id``: receivers dedupe by it),
``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: ``v1,`` and the base64
HMAC-SHA256 of ``id.timestamp.body`` under the secret's key. Signing the id and the
time, not the body alone, lets a receiver refuse a captured message replayed later
(the package refuses timestamps more than 5 minutes away).

Secrets are ``whsec_`` and the base64 of random bytes. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks import Webhook, WebhookVerificationError

WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SECRET_BYTES_RANGE = range(24, 65)  # what the specification allows


def new_secret() -> str:
    """A fresh secret in the specification's ``whsec_…`` form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def is_secret(value: str) -> bool:
    """Whether ``value`` is ``whsec_`` and the strict base64 of 24 to 64 bytes."""
    if not value.startswith(SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        return False
    return len(key) in SECRET_BYTES_RANGE


def signature_headers(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three headers of one message sent at ``at`` (an aware datetime)."""
    at = at.astimezone(UTC)  # the package reads the clock fields as UTC
    signature = Webhook(secret).sign(message_id, at, body.decode())
    return {
        WEBHOOK_ID: message_id,
        WEBHOOK_TIMESTAMP: str(int(at.timestamp())),
        WEBHOOK_SIGNATURE: signature,
    }


def verified(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether ``body`` with ``headers`` is signed with ``secret`` and was sent within
    5 minutes of now. Any malformed header or body is simply not verified."""
    if not secret:
        return False
    try:
        Webhook(secret).verify(body, dict(headers), json_parse=False)
    except (WebhookVerificationError, ValueError):  # binascii and Unicode errors are ValueErrors
        return False
    return True

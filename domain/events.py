"""Events of an account (API.md "Alerts, events and auto top-up"): their types, the
webhook message and its signature, and the messages of the workflows that deliver
events and buy auto top-ups. Pure: no I/O."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

SIGNATURE_HEADER = "X-Signature-SHA256"


class EventType(StrEnum):
    LOW_BALANCE = "low_balance"
    TOP_UP_COMPLETED = "top_up.completed"
    TOP_UP_DECLINED = "top_up.declined"
    RENEWAL_COMPLETED = "renewal.completed"
    RENEWAL_DECLINED = "renewal.declined"
    ADDON_SUSPENDED = "addon.suspended"
    PURCHASE_COMPLETED = "purchase.completed"


class DeliveryStatus(StrEnum):
    """Where an event's webhook delivery stands (none: no webhook was set when it
    was written, so it is only in the feed)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DROPPED = "dropped"  # the webhook was turned off before it was delivered


class TopUpStatus(StrEnum):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"
    DECLINED = "declined"


def crossed_below(threshold: int | None, before: int, after: int) -> bool:
    """Whether a debit took the balance from at/above ``threshold`` to below it: once
    per crossing, because the next crossing needs the balance back at/above it first."""
    return threshold is not None and before >= threshold > after


def top_up_due(below: int | None, balance_after: int) -> bool:
    return below is not None and balance_after < below


def webhook_body(event_id: str, account_id: str, at: datetime, type_: str, data: Any) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON, keys sorted."""
    message = {
        "event_id": event_id,
        "account_id": account_id,
        "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "type": type_,
        "data": data,
    }
    return json.dumps(message, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` with the account's webhook secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

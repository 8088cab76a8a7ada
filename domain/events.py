"""Events of an account (API.md "Alerts, events and auto top-up"): their types, the
webhook message and where its delivery stands. Pure: no I/O. Signing:
outbound/webhook_signing.py; the workflows' messages: contracts/events.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

# The failure type of a delivery that retrying cannot help (an inward address, a 4xx).
WEBHOOK_REFUSED = "webhook_refused"
# The wait after a failed POST: 5 s, doubled after each failure, at most an hour.
FIRST_DELIVERY_BACKOFF = timedelta(seconds=5)
LONGEST_DELIVERY_BACKOFF = timedelta(hours=1)


def delivery_backoff(failed_attempts: int) -> timedelta:
    """How long to wait after the ``failed_attempts``-th failed POST."""
    doubled = FIRST_DELIVERY_BACKOFF * (1 << min(max(failed_attempts - 1, 0), 20))
    return min(doubled, LONGEST_DELIVERY_BACKOFF)


class EventType(StrEnum):
    LOW_BALANCE = "low_balance"
    TOP_UP_COMPLETED = "top_up.completed"
    TOP_UP_DECLINED = "top_up.declined"
    RENEWAL_COMPLETED = "renewal.completed"
    RENEWAL_DECLINED = "renewal.declined"
    ADDON_SUSPENDED = "addon.suspended"
    PURCHASE_COMPLETED = "purchase.completed"


class DeliveryStatus(StrEnum):
    """Where an event's webhook delivery stands, as stored (null: no webhook was set
    when it was written, so it is only in the feed)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DROPPED = "dropped"  # the webhook was turned off before it was delivered
    FAILED = "failed"  # refused for good, or no 2xx within the retry bound


class DeliveryState(StrEnum):
    """Where a delivery stands, as the events feed answers it."""

    NONE = "none"  # no webhook (none when written, or turned off before delivery)
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def delivery_state(stored: str | None) -> DeliveryState:
    if stored is None or stored == DeliveryStatus.DROPPED:
        return DeliveryState.NONE
    return DeliveryState(stored)


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

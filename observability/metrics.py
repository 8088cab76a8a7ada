"""The business counters, one definition for both processes (API.md "Operators").

Each process counts its own events: the API its debits and HTTP requests, the
worker its purchases, payments, grants and renewals. A counter that follows a
database write counts when the transaction commits (``count_on_commit``), so a
rolled-back write or an idempotent replay that writes nothing counts nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session

PURCHASES = Counter(
    "sms_purchases",
    "Purchases reaching a status (quoted, completed, declined, cancelled, expired, …).",
    ["item_type", "status"],
)
PAYMENTS = Counter(
    "sms_payments",
    "Payments the gateway recorded, by kind (capture, refund) and status.",
    ["kind", "status"],
)
CREDITS_GRANTED = Counter(
    "sms_credits_granted", "Credits granted, by source (purchase, renewal, adjustment).", ["source"]
)
CREDITS_DEBITED = Counter("sms_credits_debited", "Credits spent by sends.")
CREDITS_EXPIRED = Counter("sms_credits_expired", "Credits expired unused (no roll-over).")
RENEWALS = Counter(
    "sms_renewals",
    "Credit-month renewals: renewed (allotment granted) or past_due (charge failed).",
    ["outcome"],
)
ADDONS_ENDED = Counter(
    "sms_addons_ended", "Add-ons ended, by status (cancelled, suspended).", ["status"]
)
RENEWAL_CHARGES_REFUSED = Counter(
    "sms_renewal_charges_refused",
    "Renewal charges the payment provider refused itself, not the card (its key, a "
    "parameter): each is sent again, so a blocked renewal keeps counting.",
)
RECONCILER_ACTIONS = Counter(
    "sms_reconciler_actions",
    "What the reconciler settled that a lost workflow left behind, by action.",
    ["action"],
)
HTTP_DURATION = Histogram(
    "sms_http_request_duration_seconds",
    "API request duration by route template, method and status.",
    ["route", "method", "status"],
)

Action = TypeVar("Action", bound=StrEnum)
_PENDING = "sms_metrics_pending"
_Pending = list[tuple[Counter, float, dict[str, str]]]


def count_on_commit(session: Session, counter: Counter, amount: float = 1, **labels: Any) -> None:
    """Count ``amount`` when ``session``'s transaction commits; nothing if it rolls back."""
    pending: _Pending = session.info.setdefault(_PENDING, [])
    pending.append((counter, amount, {name: str(value) for name, value in labels.items()}))


def debited_committed(credits: int) -> None:
    """Credits a send spent, counted by the API once the group commit answered (the
    debit's transaction has committed)."""
    if credits:
        CREDITS_DEBITED.inc(credits)


def purchase_status(session: Session, item_type: str, before: str | None, after: str) -> None:
    """A purchase record moves to ``after``; rewriting the same status counts nothing."""
    if before != after:
        count_on_commit(session, PURCHASES, item_type=item_type, status=after)


def reconciler_action(action: Action) -> Action:
    """Count one thing the reconciler settled; returns ``action``."""
    RECONCILER_ACTIONS.labels(action=action.value).inc()
    return action


def renewal(session: Session, *, granted: bool) -> None:
    count_on_commit(session, RENEWALS, outcome="renewed" if granted else "past_due")


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    pending: _Pending = session.info.pop(_PENDING, [])
    for counter, amount, labels in pending:
        (counter.labels(**labels) if labels else counter).inc(amount)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)

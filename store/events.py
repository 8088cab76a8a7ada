"""Events: written in the transaction of their fact, once per key; read by the feed,
the webhook deliveries and the sweep.

A write also notes, in the session, the work to start once it commits (a webhook
delivery, a claimed top-up): ``started_after_commit`` hands that list to whoever
committed (the API starts the workflows at once; the sweep finds anything missed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from domain.events import DeliveryStatus, EventType
from store.event_models import DELIVERY_ERROR_CHARS, AccountEvent, AlertSettings

_AFTER_COMMIT = "sms_after_commit"


@dataclass(frozen=True)
class FollowUp:
    """A workflow to start once the transaction that asked for it has committed."""

    kind: str  # "event" (deliver it), "top_up" (buy it) or "mail" (send it)
    account_id: str
    record_id: str
    round: int = 0  # an event's delivery round (one more per operator redelivery)


def follow_up(session: Session, item: FollowUp) -> None:
    session.info.setdefault(_AFTER_COMMIT, []).append(item)


def started_after_commit(session: Session) -> list[FollowUp]:
    """The follow-ups of the committed transaction (each handed out once)."""
    items: list[FollowUp] = session.info.pop(_AFTER_COMMIT, [])
    return items


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def alert_settings(session: Session, account_id: str) -> AlertSettings | None:
    return session.get(AlertSettings, account_id)


def record_event(
    session: Session,
    *,
    account_id: str,
    type_: EventType,
    data: dict[str, Any],
    at: datetime,
    key: str,
) -> AccountEvent:
    """Write the event unless ``key`` was written already (a retried fact writes
    nothing twice); it waits for delivery when the account has a webhook now."""
    found = _by_fact(session, key)
    if found is not None:
        return found
    settings = alert_settings(session, account_id)
    deliver = settings is not None and settings.webhook_url is not None
    row = AccountEvent(
        event_id=f"evt_{uuid.uuid4().hex[:24]}",
        account_id=account_id,
        type=type_.value,
        data=data,
        at=at,
        idempotency_key=f"event:{key}",
        delivery_status=DeliveryStatus.PENDING.value if deliver else None,
    )
    session.add(row)
    session.flush()
    if deliver:
        follow_up(session, FollowUp("event", account_id, row.event_id))
    return row


def recorded(session: Session, key: str) -> bool:
    """Whether the event of the fact ``key`` (as ``record_event`` takes it) is written."""
    return _by_fact(session, key) is not None


def _by_fact(session: Session, key: str) -> AccountEvent | None:
    found = select(AccountEvent).where(AccountEvent.idempotency_key == f"event:{key}")
    return session.scalars(found).first()


def latest_events(session: Session, account_id: str, limit: int) -> list[AccountEvent]:
    return list(
        session.scalars(
            select(AccountEvent)
            .where(AccountEvent.account_id == account_id)
            .order_by(AccountEvent.id.desc())
            .limit(limit)
        )
    )


def find_event(session: Session, event_id: str) -> AccountEvent | None:
    return session.scalars(select(AccountEvent).where(AccountEvent.event_id == event_id)).first()


def account_event(session: Session, account_id: str, event_id: str) -> AccountEvent | None:
    row = find_event(session, event_id)
    return row if row is not None and row.account_id == account_id else None


def pending_events(
    session: Session, limit: int, account_id: str | None = None
) -> list[AccountEvent]:
    query = select(AccountEvent).where(AccountEvent.delivery_status == DeliveryStatus.PENDING.value)
    if account_id is not None:
        query = query.where(AccountEvent.account_id == account_id)
    return list(session.scalars(query.order_by(AccountEvent.id).limit(limit)))


def delivering(session: Session, event_id: str, round_: int) -> AccountEvent | None:
    """The event while its delivery round ``round_`` is pending, else None (ended, or
    another round began: an operator's redelivery)."""
    row = find_event(session, event_id)
    pending = row is not None and row.delivery_status == DeliveryStatus.PENDING.value
    return row if pending and row is not None and row.delivery_round == round_ else None


def count_attempt(session: Session, event_id: str, round_: int, attempt: int) -> None:
    """Note that attempt number ``attempt`` of the round has begun (a rerun of the
    same attempt counts once)."""
    row = delivering(session, event_id, round_)
    if row is not None and row.delivery_attempts < attempt:
        row.delivery_attempts = attempt


def mark_delivery(
    session: Session,
    event_id: str,
    round_: int,
    status: DeliveryStatus,
    at: datetime,
    error: str | None = None,
) -> None:
    """Record the round's end; a later retry that finds it ended changes nothing."""
    row = delivering(session, event_id, round_)
    if row is None:
        return
    row.delivery_status = status.value
    row.delivered_at = at
    row.delivery_error = None if error is None else error[:DELIVERY_ERROR_CHARS]


def reopen_delivery(row: AccountEvent) -> int:
    """Begin a new delivery round of a failed event (an operator's redelivery): pending
    again, attempts from zero. Returns the round's number."""
    row.delivery_status = DeliveryStatus.PENDING.value
    row.delivery_round += 1
    row.delivery_attempts = 0
    row.delivery_error = None
    row.delivered_at = None
    return row.delivery_round

"""The events of renewals, suspensions and purchases, written by the activity that
records the fact, in its transaction, keyed by the fact (a retry writes nothing twice).
Their webhook deliveries are started by the event sweep."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain.events import EventType
from store.events import record_event, recorded
from store.fact_mail import past_due_mail


def renewal_event(
    session: Session,
    *,
    account_id: str,
    month_start: datetime,
    paid: bool,
    granted: int,
    balance: int,
    at: datetime,
) -> bool:
    """``renewal.completed`` when the month's allotment was granted, else ``renewal.declined``
    (the charge failed: past due, no credits until a retry succeeds). True when this
    wrote it; a rerun of the renewal finds it written and writes nothing."""
    month = f"{month_start:%Y-%m-%d}"
    type_ = EventType.RENEWAL_COMPLETED if paid else EventType.RENEWAL_DECLINED
    key = f"{type_.value}:{account_id}:{month}"
    if recorded(session, key):
        return False
    record_event(
        session,
        account_id=account_id,
        type_=type_,
        data={"month_start": month, "credits_granted": granted, "balance": balance},
        at=at,
        key=key,
    )
    if not paid:
        past_due_mail(session, account_id=account_id, month_start=month_start, at=at)
    return True


def suspended_event(session: Session, *, account_id: str, at: datetime) -> None:
    record_event(
        session,
        account_id=account_id,
        type_=EventType.ADDON_SUSPENDED,
        data={"reason": "The renewal charge failed after every retry."},
        at=at,
        key=f"addon.suspended:{account_id}:{at.isoformat()}",
    )


def purchase_event(
    session: Session, *, account_id: str, purchase_id: str, item: dict[str, str], at: datetime
) -> None:
    record_event(
        session,
        account_id=account_id,
        type_=EventType.PURCHASE_COMPLETED,
        data={"purchase_id": purchase_id, "item": item},
        at=at,
        key=f"purchase.completed:{purchase_id}",
    )

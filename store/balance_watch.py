"""What a debit sets off, in the debit's own transaction (under the account's lock):
the ``low_balance`` event when it crossed the threshold, and the claim of an auto
top-up when it left the balance below the trigger (DESIGN.md §1, "Auto top-up").

The claim is the only place a top-up can begin, and it is capped by construction:

- one in flight per account: a partial unique index on in-flight rows, and the check
  below, both under the account's row lock;
- at most ``max_per_month`` per credit month: each claim takes the next sequence
  number of the month, unique per (account, month, sequence), and none at or above
  the cap is ever taken;
- its capture's idempotency key is made from that row, so however often the
  workflow (or a sweep) runs it, it charges that row once;
- a decline turns auto top-up off (``store.top_up_settlement``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, exists, func, select
from sqlalchemy.orm import Session

from domain.calendar import credit_month
from domain.enums import AddonStatus
from domain.events import EventType, TopUpStatus, crossed_below, top_up_due
from store.event_models import AlertSettings, AutoTopUp
from store.events import (
    FollowUp,
    alert_settings,
    follow_up,
    record_event,
    started_after_commit,
)
from store.fact_mail import low_balance_mail
from store.ledger_models import CreditEntry
from store.models import Account, AddonSubscription

# Whether the account has alert settings at all; the debit fast path reads it with
# the rest of the account's state, in one statement (store/debits.py).
WATCHED = exists().where(AlertSettings.account_id == bindparam("account")).label("watched")


def after_fast_debits(
    connection: Connection, account_id: str, keys: Sequence[str], *, watched: bool
) -> list[FollowUp]:
    """The debit fast path's hook (store/debits.py), in its transaction under the
    account's lock: ``after_debit`` for each new debit, in order. ``watched``: the
    account has alert settings (``WATCHED``, read under the same lock); without them
    this costs nothing."""
    if not keys or not watched:
        return []
    # Joined into the caller's transaction in a savepoint: committing the session
    # releases it, and the caller's (group) commit makes it durable.
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        account = session.get(Account, account_id)
        assert account is not None
        entries = session.scalars(
            select(CreditEntry)
            .where(CreditEntry.idempotency_key.in_(list(keys)))
            .order_by(CreditEntry.id)
        )
        for entry in entries:
            after_debit(session, account, entry)
        session.commit()
        return started_after_commit(session)


def after_debit(session: Session, account: Account, debit: CreditEntry) -> None:
    """Called for every new debit (``after_fast_debits``), the account row locked."""
    settings = alert_settings(session, account.id)
    if settings is None:
        return
    after = debit.balance_after
    before = after - debit.credits  # a debit's credits are negative
    threshold = settings.low_balance_threshold
    if threshold is not None and crossed_below(threshold, before, after):
        event = record_event(
            session,
            account_id=account.id,
            type_=EventType.LOW_BALANCE,
            data={"balance": after, "threshold": threshold},
            at=debit.at,
            key=f"low_balance:{debit.idempotency_key}",
        )
        low_balance_mail(
            session,
            account_id=account.id,
            event_id=event.event_id,
            balance=after,
            threshold=threshold,
            at=debit.at,
        )
    if top_up_due(settings.top_up_below, after):
        claim_top_up(session, account, settings, debit.at)


def claim_top_up(
    session: Session, account: Account, settings: AlertSettings, at: datetime
) -> AutoTopUp | None:
    """Claim the account's next top-up of this credit month, or None when a cap holds."""
    cap = settings.top_up_max_per_month
    if settings.top_up_pack is None or cap is None:
        return None
    addon = session.get(AddonSubscription, account.id)
    if addon is None or addon.status != AddonStatus.ACTIVE.value:
        return None  # top-up credits belong to an active add-on's month
    in_flight = session.scalars(
        select(AutoTopUp.top_up_id).where(
            AutoTopUp.account_id == account.id, AutoTopUp.status == TopUpStatus.IN_FLIGHT.value
        )
    ).first()
    if in_flight is not None:
        return None
    month = credit_month(account.billing_anchor, at)
    taken = session.scalar(
        select(func.count())
        .select_from(AutoTopUp)
        .where(AutoTopUp.account_id == account.id, AutoTopUp.month_start == month.start)
    )
    if taken is None or taken >= cap:
        return None
    assert settings.top_up_credits is not None and settings.top_up_price_minor is not None
    assert settings.top_up_currency is not None
    top_up = AutoTopUp(
        top_up_id=f"tu_{uuid.uuid4().hex[:24]}",
        account_id=account.id,
        month_start=month.start,
        month_end=month.end,
        sequence=taken,
        status=TopUpStatus.IN_FLIGHT.value,
        pack=settings.top_up_pack,
        credits=settings.top_up_credits,
        amount_minor=settings.top_up_price_minor,
        currency=settings.top_up_currency,
        claimed_at=at,
    )
    session.add(top_up)
    session.flush()
    follow_up(session, FollowUp("top_up", account.id, top_up.top_up_id))
    return top_up


def top_up_payment_key(top_up: AutoTopUp) -> str:
    return f"top-up:{top_up.account_id}:{top_up.month_start:%Y-%m-%d}:{top_up.sequence}"


def in_flight_top_ups(session: Session, limit: int) -> list[AutoTopUp]:
    return list(
        session.scalars(
            select(AutoTopUp)
            .where(AutoTopUp.status == TopUpStatus.IN_FLIGHT.value)
            .order_by(AutoTopUp.claimed_at)
            .limit(limit)
        )
    )

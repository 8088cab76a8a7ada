"""The end of an auto top-up, in one transaction: a capture grants the pack's credits
(until the next renewal) and writes ``top_up.completed``; a decline turns auto top-up
off and writes ``top_up.declined``. Either way the in-flight claim is released."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from contracts.events import TopUpCapture, TopUpOutcome
from domain.calendar import credit_month
from domain.enums import GrantSource
from domain.events import EventType, TopUpStatus
from store.balance_watch import top_up_payment_key
from store.event_models import AlertSettings, AutoTopUp
from store.events import record_event
from store.ledger import grant_credits, lock_account


def turn_off_top_up(settings: AlertSettings) -> None:
    settings.top_up_pack = settings.top_up_credits = settings.top_up_price_minor = None
    settings.top_up_currency = None
    settings.top_up_below = settings.top_up_max_per_month = None


def settle_top_up(
    session: Session,
    top_up_id: str,
    capture: TopUpCapture | None,
    at: datetime,
    refused: str | None = None,
) -> TopUpOutcome:
    """Idempotent: a top-up settled already answers its outcome and writes nothing.
    ``refused``: no charge could be made (``capture`` None), or the one made was given
    back; either way it settles as declined, for that reason."""
    top_up = session.get(AutoTopUp, top_up_id)
    if top_up is None:
        raise LookupError(f"There is no auto top-up {top_up_id}.")
    account = lock_account(session, top_up.account_id)
    if top_up.status != TopUpStatus.IN_FLIGHT.value:
        return TopUpOutcome(
            status=TopUpStatus(top_up.status), credits=0, balance=account.credit_balance
        )
    top_up.payment_id, top_up.settled_at = capture.payment_id if capture else None, at
    money = {"amount_minor": top_up.amount_minor, "currency": top_up.currency}
    data = {"top_up_id": top_up_id, "pack": top_up.pack, "payment_id": top_up.payment_id, **money}
    if refused is not None or capture is None or not capture.succeeded:
        reason = refused if refused is not None or capture is None else capture.decline_reason
        top_up.status = TopUpStatus.DECLINED.value
        settings = session.get(AlertSettings, top_up.account_id)
        if settings is not None:
            turn_off_top_up(settings)
            settings.updated_at = at
        record_event(
            session,
            account_id=account.id,
            type_=EventType.TOP_UP_DECLINED,
            data={**data, "reason": reason, "auto_top_up": "off"},
            at=at,
            key=f"top_up.declined:{top_up_id}",
        )
        return TopUpOutcome(status=TopUpStatus.DECLINED, credits=0, balance=account.credit_balance)
    top_up.status = TopUpStatus.COMPLETED.value
    # Until the next renewal of the month it is settled in (a claim made just before a
    # renewal and paid after it must not grant credits that are already expired).
    month = credit_month(account.billing_anchor, at)
    grant_credits(
        session,
        account_id=account.id,
        source=GrantSource.TOP_UP,
        credits=top_up.credits,
        expires_at=month.end,
        at=at,
        reference=f"auto top-up {top_up_id} ({top_up.pack})",
        key=f"{top_up_payment_key(top_up)}:grant",
    )
    record_event(
        session,
        account_id=account.id,
        type_=EventType.TOP_UP_COMPLETED,
        data={**data, "credits": top_up.credits, "balance": account.credit_balance},
        at=at,
        key=f"top_up.completed:{top_up_id}",
    )
    return TopUpOutcome(
        status=TopUpStatus.COMPLETED, credits=top_up.credits, balance=account.credit_balance
    )

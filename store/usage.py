"""An account's debits in one credit month, for its usage at a glance (domain.usage)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar import Period, as_utc
from domain.enums import EntryKind
from domain.usage import Debit, MonthUsage, month_usage
from store.ledger_models import CreditEntry


def usage_in(session: Session, account_id: str, month: Period) -> MonthUsage:
    rows = session.execute(
        select(CreditEntry.at, CreditEntry.credits, CreditEntry.reference).where(
            CreditEntry.account_id == account_id,
            CreditEntry.kind == EntryKind.DEBIT.value,
            CreditEntry.at >= month.start,
            CreditEntry.at < month.end,
        )
    )
    debits = (Debit(at=as_utc(at), credits=-credits, reference=ref) for at, credits, ref in rows)
    return month_usage(month, debits)

"""An account's billing details: read and replaced whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain.billing_details import BillingDetails
from store.ledger import lock_account
from store.receipt_models import BillingDetailsRow


def billing_details(session: Session, account_id: str) -> BillingDetails | None:
    row = session.get(BillingDetailsRow, account_id)
    return None if row is None else BillingDetails.model_validate(row.details)


def save_billing_details(
    session: Session, account_id: str, details: BillingDetails, at: datetime
) -> None:
    lock_account(session, account_id)  # two first saves queue; the second updates
    row = session.get(BillingDetailsRow, account_id)
    stored = details.model_dump(mode="json")
    if row is None:
        session.add(BillingDetailsRow(account_id=account_id, details=stored, updated_at=at))
    else:
        row.details, row.updated_at = stored, at

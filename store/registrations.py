"""The account's A2P 10DLC registration row, as its workflow records it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contracts.registration import RegistrationRecord
from store.registration_models import A2pRegistration


def save_registration(session: Session, record: RegistrationRecord) -> None:
    """Make the account's registration row say ``record``. Idempotent by (account_id,
    submission, status): writing the same record again leaves the same row, and a
    record of an older submission than the row's never overwrites it."""
    row = session.get(A2pRegistration, record.account_id, with_for_update=True)
    if row is None:
        row = A2pRegistration(account_id=record.account_id, submitted_at=record.at)
        session.add(row)
    elif row.submission > record.submission:
        return
    if row.submission != record.submission:
        row.submitted_at = record.at
    row.status = record.status.value
    row.reason = record.reason
    row.brand = record.details.brand.model_dump(mode="json")
    row.campaign = record.details.campaign.model_dump(mode="json")
    row.submission = record.submission
    row.updated_at = record.at

"""The purchase's steps run as local activities: when a worker dies before the
workflow task completes, the next worker runs every step of that task again. Each must
then change nothing: these run a step a second time after the purchase moved on, on
SQLite and PostgreSQL.
(The fault drills, tests/test_fault_drills.py, kill a real worker at each step.)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from activities.purchase import PurchaseActivities
from contracts.purchase import ClaimRequest, PurchaseView
from domain.enums import ItemType, Plan, PurchaseStatus
from domain.purchase import PurchaseItem
from store.db import transaction
from store.models import Purchase
from store.purchases import new_purchase_id, save_purchase_view
from tests.purchase_support import purchase_row
from tests.support import activity_deps, create_account

ADDON = PurchaseItem(type=ItemType.ADDON, tier="sms-1000")


def _purchase(sessions: sessionmaker[Session], now: datetime) -> tuple[str, str]:
    account_id = f"local-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, plan=Plan.PLUS, anchor=now.date(), now=now)
    purchase_id = new_purchase_id()
    with transaction(sessions) as session:
        session.add(
            purchase_row(
                purchase_id, account_id, ADDON, PurchaseStatus.AWAITING_CONFIRMATION.value, now
            )
        )
    return account_id, purchase_id


def test_a_claim_run_again_after_the_purchase_ended_keeps_its_record(sessions):
    """Claim (recording `processing`), the purchase completes, then the claim runs again
    (its local activity replayed): the record stays `completed` (which also keeps the
    claim released) and the claim's time is the first one."""
    now = datetime.now(UTC)
    account_id, purchase_id = _purchase(sessions, now)
    steps = PurchaseActivities(activity_deps(cast(Client, None), sessions))
    view = PurchaseView(
        purchase_id=purchase_id, status=PurchaseStatus.PROCESSING, item=ADDON, created_at=now
    )
    claim = ClaimRequest(
        account_id=account_id,
        purchase_id=purchase_id,
        item=ADDON,
        quote_month_end=now + timedelta(days=1),
        at=now,
        record=view,
    )
    steps.claim_item(claim)
    with transaction(sessions) as session:
        row = session.get(Purchase, purchase_id)
        assert row is not None and row.status == PurchaseStatus.PROCESSING.value
        claimed_at = row.claimed_at
        completed = view.model_copy(
            update={"status": PurchaseStatus.COMPLETED, "completed_at": now}
        )
        save_purchase_view(session, completed)

    steps.claim_item(claim.model_copy(update={"at": now + timedelta(seconds=3)}))

    with sessions() as session:
        row = session.get(Purchase, purchase_id)
        assert row is not None
        assert row.status == PurchaseStatus.COMPLETED.value
        assert row.claimed_at == claimed_at

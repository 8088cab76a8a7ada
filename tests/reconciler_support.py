"""Plumbing of the reconciler tests: one pass of the real ``SmsReconciler`` as its
schedule starts it, a worker for it, and what lost workflows leave behind, made
directly in the database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus

import worker
from activities.deps import ActivityDeps
from contracts.purchase import payment_key
from contracts.reconciler import RECONCILER_SCHEDULE, ReconcileRequest, ReconcilerReport
from domain.catalogue import load_catalogue
from domain.enums import ItemType, PurchaseStatus
from domain.pricing import Quote
from domain.purchase import PurchaseItem
from payments.attempts import PENDING
from payments.gateway import GatewayRejected, PaymentResult
from payments.sandbox import SandboxGateway
from store.db import transaction
from store.models import Payment
from tests.purchase_support import purchase_row
from tests.support import SELLER, keep_history, sandbox_capture
from workflows.reconciler import ReconcilerWorkflow

GRACE = timedelta(minutes=10)
QUOTE_TTL = timedelta(minutes=30)
LONG_AGO = timedelta(hours=2)


async def reconcile(
    client: Client, task_queue: str, grace: timedelta = GRACE, history: str | None = None
) -> ReconcilerReport:
    """One pass, as the schedule starts it; it must complete (never fail). ``history``:
    kept as tests/histories/{history}.json."""
    handle = await client.start_workflow(
        ReconcilerWorkflow.run,
        ReconcileRequest(
            grace_seconds=int(grace.total_seconds()),
            quote_ttl_seconds=int(QUOTE_TTL.total_seconds()),
        ),
        # As a schedule names its runs: the schedule's action id and the start time.
        id=f"{RECONCILER_SCHEDULE}-pass-{uuid.uuid4().hex[:6]}-{datetime.now(UTC):%FT%TZ}",
        task_queue=task_queue,
    )
    report = await handle.result()
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    if history is not None:
        await keep_history(handle, history)
    return report


class RefusesRefunds(SandboxGateway):
    """The sandbox provider, refusing every refund (as a closed account or an expired
    capture would have it refused)."""

    def refund(self, **_: Any) -> PaymentResult:
        raise GatewayRejected("The provider refused the refund: the charge is too old.")


@asynccontextmanager
async def reconciling(
    client: Client, sessions: sessionmaker[Session], task_queue: str, refunds: bool = True
) -> AsyncIterator[None]:
    gateway = SandboxGateway(sessions, SELLER) if refunds else RefusesRefunds(sessions, SELLER)
    deps = ActivityDeps(
        sessions=sessions, catalogue=load_catalogue(), gateway=gateway, client=client
    )
    async with worker.build_worker(client, deps, task_queue):
        yield


def stuck_purchase(
    sessions: sessionmaker[Session],
    account_id: str,
    status: PurchaseStatus,
    created: datetime,
    capture: str | None = None,
) -> str:
    """A purchase whose workflow is gone, quoted at ``created`` for $18.00; ``capture``:
    its payment (a method of the sandbox, or ``pending``: an outcome not known yet)."""
    purchase_id = f"pur_{uuid.uuid4().hex[:20]}"
    item = PurchaseItem(type=ItemType.ADDON, tier="sms-1000")
    row = purchase_row(purchase_id, account_id, item, status.value, created)
    row.quote = quote(created).model_dump(mode="json")
    row.claimed_at = created if status is PurchaseStatus.PROCESSING else None
    with transaction(sessions) as session:
        session.add(row)
    if capture == PENDING:
        with transaction(sessions) as session:
            session.add(pending_capture(account_id, purchase_id, created))
    elif capture is not None:
        sandbox_capture(
            sessions, account_id, key=payment_key(purchase_id), at=created, method=capture
        )
    return purchase_id


def quote(at: datetime) -> Quote:
    return Quote(
        currency="USD",
        lines=[{"description": "SMS add-on, 1,000 credits/month", "amount_minor": 1800}],
        due_now_minor=1800,
        recurring_minor=1800,
        interval="month",
        next_charge_at=at + timedelta(days=30),
        credits_now=1000,
        monthly_credits_after=1000,
        credits_expire_at=at + timedelta(days=30),
        expires_at=at + QUOTE_TTL,
    )


def pending_capture(account_id: str, purchase_id: str, at: datetime) -> Payment:
    return Payment(
        payment_id=f"pay_{uuid.uuid4().hex[:24]}",
        account_id=account_id,
        kind="capture",
        amount_minor=1800,
        currency="USD",
        status=PENDING,
        payment_method="pm_card_visa",
        reference=f"purchase {purchase_id}",
        idempotency_key=payment_key(purchase_id),
        response_delivered=True,
        at=at,
        created_at=at,
    )

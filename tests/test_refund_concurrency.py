"""Refund requests racing for one capture (each under its own key) never together
exceed it, and the same key raced from many threads records one request; on every
configured database (SQLite always; PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.errors import DomainError
from payments.sandbox import SandboxGateway
from store.db import transaction
from store.operator import record_refund_request
from store.operator_models import AuditRecord, RefundRequest
from tests.support import SELLER, create_account

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
PARALLEL = 8


def capture(sessions: sessionmaker[Session]) -> tuple[str, str]:
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=NOW.date(), now=NOW)
    result = SandboxGateway(sessions, SELLER).capture(
        account_id=account_id,
        amount_minor=1000,
        currency="USD",
        payment_method="pm_card_visa",
        idempotency_key=f"purchase:{account_id}",
        reference="test",
        at=NOW,
    )
    return account_id, result.payment_id


def request(sessions: sessionmaker[Session], account_id: str, payment_id: str, key: str) -> str:
    try:
        with transaction(sessions) as session:
            record_refund_request(
                session,
                account_id=account_id,
                key=key,
                payment_id=payment_id,
                amount_minor=300,
                revoke_credits=False,
                reason="race",
                operator="olga",
                at=NOW,
            )
        return "recorded"
    except DomainError as refused:
        return refused.code.value
    except IntegrityError:  # the same key won elsewhere (unique key): nothing written twice
        return "duplicate"


def test_racing_refunds_never_exceed_the_capture(sessions):
    account_id, payment_id = capture(sessions)
    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(
            pool.map(lambda n: request(sessions, account_id, payment_id, f"k-{n}"), range(PARALLEL))
        )
    assert sorted(outcomes) == ["conflict"] * (PARALLEL - 3) + ["recorded"] * 3  # 3 x 300 <= 1000


def test_one_key_raced_records_one_request_and_one_audit(sessions):
    account_id, payment_id = capture(sessions)
    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(lambda _: request(sessions, account_id, payment_id, "same"), range(PARALLEL)))
    with sessions() as session:
        requests = session.scalars(
            select(RefundRequest).where(RefundRequest.account_id == account_id)
        ).all()
        audits = session.scalars(
            select(AuditRecord).where(AuditRecord.account_id == account_id)
        ).all()
    assert len(requests) == len(audits) == 1

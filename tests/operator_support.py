"""Helpers for the operator-action tests: the admin API of a shop, its audit, and the
money a capture still holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.models import Payment
from store.operator_models import AuditRecord
from tests.purchase_support import Shop
from tests.support import ADMIN_TOKEN, bearer, send_credits

ADMIN = bearer(ADMIN_TOKEN)


async def ops_post(
    shop: Shop, path: str, body: dict[str, Any] | None = None, key: str | None = None
) -> httpx.Response:
    return await admin_post(shop.api, shop.account_id, path, body, key)


async def admin_post(
    api: httpx.AsyncClient,
    account_id: str,
    path: str,
    body: dict[str, Any] | None = None,
    key: str | None = None,
) -> httpx.Response:
    """An operator action as ``olga`` (``key`` is the Idempotency-Key)."""
    headers = {**ADMIN, "X-Operator": "olga"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await api.post(f"/v1/admin/accounts/{account_id}/sms{path}", json=body, headers=headers)


def audit_of(sessions: sessionmaker[Session], account_id: str) -> list[AuditRecord]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.account_id == account_id)
                .order_by(AuditRecord.id)
            )
        )


def refunds_of(shop: Shop, payment_id: str) -> list[Payment]:
    with shop.sessions() as session:
        return list(
            session.scalars(
                select(Payment).where(Payment.refund_of == payment_id, Payment.kind == "refund")
            )
        )


def audit_rows(shop: Shop) -> list[AuditRecord]:
    return audit_of(shop.sessions, shop.account_id)


def spend(shop: Shop, credits: int) -> None:
    """A send that spends ``credits`` now (the soonest-expiring grants first)."""
    send_credits(shop.sessions, shop.account_id, credits, datetime.now(UTC))

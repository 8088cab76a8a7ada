"""Operator actions on the subscription (admin token, API.md "Operators"): goodwill
credits, retry a past-due payment, cancel at period end or end now, and the audit.

Each is idempotent by its request key (``Idempotency-Key``; goodwill by its
``request_id``) and audited once per key: a repeat answers what the first one did,
from its audit record (starter/api/operator_audit.py), without acting again. Refunds are
in starter/api/routes/refunds.py.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from application.context import Services
from application.errors import ApiError
from application.operator_calls import cancel_addon, give_goodwill, request_retry
from contracts.operator import DEFAULT_OPERATOR, AuditAction, RefundedPayment
from domain.enums import AddonStatus
from domain.errors import ErrorCode
from domain.inputs import Id, InputModel
from starter.api.deps import AccountIdPath, AdminDep, ServicesDep
from starter.api.errors import error_responses
from starter.api.idempotency import IdempotencyDep
from starter.api.operator_audit import (
    OperatorHeader,
    Reason,
    admin_scope,
    first_answer,
    record_action,
)
from store.db import read_only
from store.operator import audit_of
from store.operator_models import AuditRecord

router = APIRouter(
    prefix="/v1/admin/accounts/{account_id}/sms", tags=["operators"], dependencies=[AdminDep]
)


class GoodwillIn(InputModel):
    credits: Annotated[int, Field(gt=0, le=10_000_000)]
    reason: Reason
    request_id: Id


class CancelIn(InputModel):
    when: Literal["period_end", "now"]
    refund: Literal["none", "prorated"] = "none"
    reason: Reason = "operator cancel"


class AuditOut(BaseModel):
    at: datetime
    operator: str
    action: AuditAction
    account_id: str
    reason: str
    payload: dict[str, Any]
    reference: str | None = Field(description="The ledger entry or payment it wrote.")


class AuditList(BaseModel):
    audit: list[AuditOut]


async def _acted(
    services: Services,
    account_id: str,
    action: AuditAction,
    key: str,
    operator: str,
    reason: str,
    payload: dict[str, Any],
    answer: BaseModel,
    reference: str | None,
) -> None:
    await asyncio.to_thread(
        lambda: record_action(
            services,
            account_id=account_id,
            action=action,
            operator=operator,
            reason=reason,
            key=key,
            payload=payload,
            answer=answer,
            reference=reference,
        )
    )


class GoodwillOut(BaseModel):
    credits: int
    expires_at: datetime
    balance: int


@router.post(
    "/goodwill",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def goodwill(
    account_id: AccountIdPath,
    body: GoodwillIn,
    services: ServicesDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> GoodwillOut:
    """Goodwill credits until the next renewal (an ``adjust`` grant); once per ``request_id``."""
    action, key = AuditAction.GOODWILL, body.request_id
    first = await asyncio.to_thread(first_answer, services, account_id, action, key)
    if first is not None:
        return GoodwillOut.model_validate(first)
    granted = await give_goodwill(services, account_id, body.credits, body.reason, key)
    out = GoodwillOut.model_validate(granted.model_dump())
    await _acted(
        services,
        account_id,
        action,
        key,
        operator,
        body.reason,
        {"credits": body.credits, "request_id": key},
        out,
        reference=f"goodwill:{account_id}:{key}",
    )
    return out


class RetryOut(BaseModel):
    account_id: str
    status: AddonStatus
    retry_requested: bool


@router.post(
    "/retry-payment",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_PAST_DUE, ErrorCode.SERVICE_UNAVAILABLE
    ),
)
async def retry_payment(
    account_id: AccountIdPath,
    services: ServicesDep,
    idempotency: IdempotencyDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> RetryOut:
    """Retry a past-due add-on's declined charge now (409 ``not_past_due`` when
    nothing is past due); the outcome shows in the payments and the add-on's status."""
    action, key = AuditAction.RETRY_PAYMENT, idempotency.key or uuid.uuid4().hex
    await asyncio.to_thread(idempotency.claim, admin_scope(account_id))
    first = await asyncio.to_thread(first_answer, services, account_id, action, key)
    if first is not None:
        return RetryOut.model_validate(first)
    await request_retry(services, account_id, operator)
    out = RetryOut(account_id=account_id, status=AddonStatus.PAST_DUE, retry_requested=True)
    await _acted(services, account_id, action, key, operator, "retry payment", {}, out, None)
    return out


class CancelOut(BaseModel):
    status: AddonStatus
    ends_at: datetime
    credits_expired: int = 0
    refunds: list[RefundedPayment] = []


@router.post(
    "/addon/cancel",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel(
    account_id: AccountIdPath,
    body: CancelIn,
    services: ServicesDep,
    idempotency: IdempotencyDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> CancelOut:
    """``period_end``: the customer's cancel. ``now``: the add-on ends at once (credits
    expire, status cancelled), with ``prorated`` the unused days of the paid period refunded."""
    if body.when == "period_end" and body.refund != "none":
        raise ApiError(ErrorCode.INVALID_REQUEST, "Only an end now can refund the unused days.")
    await asyncio.to_thread(idempotency.claim, admin_scope(account_id), body)
    now = body.when == "now"
    action = AuditAction.END_NOW if now else AuditAction.CANCEL_AT_PERIOD_END
    key = idempotency.key or uuid.uuid4().hex
    first = await asyncio.to_thread(first_answer, services, account_id, action, key)
    if first is not None:
        return CancelOut.model_validate(first)
    ended = await cancel_addon(services, account_id, operator, now, body.refund == "prorated")
    out = CancelOut.model_validate(ended.model_dump())
    reference = ", ".join(r.payment_id for r in out.refunds) or f"add-on {out.status.value}"
    await _acted(
        services,
        account_id,
        action,
        key,
        operator,
        body.reason,
        body.model_dump(mode="json"),
        out,
        reference,
    )
    return out


@router.get("/audit", responses=error_responses(ErrorCode.UNAUTHENTICATED))
def audit(
    account_id: AccountIdPath,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditList:
    """The operator actions on the account, newest first."""
    with read_only(services.sessions) as session:
        rows: list[AuditRecord] = audit_of(session, account_id, limit)
        return AuditList(
            audit=[
                AuditOut(
                    at=r.at,
                    operator=r.operator,
                    action=AuditAction(r.action),
                    account_id=r.account_id,
                    reason=r.reason,
                    payload=r.payload,
                    reference=r.reference,
                )
                for r in rows
            ]
        )

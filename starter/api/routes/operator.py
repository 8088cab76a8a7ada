"""Operator actions on the subscription (admin token, API.md "Operators"): goodwill
credits, retry a past-due payment, cancel at period end or end now, and the audit
(application/operator.py). Refunds are in starter/api/routes/refunds.py."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from application import operator as operations
from application.authorization import Action, Permit
from application.operator import (
    AuditList,
    CancelIn,
    CancelOut,
    GoodwillIn,
    GoodwillOut,
    RetryOut,
)
from application.operator_audit import admin_scope
from contracts.operator import DEFAULT_OPERATOR
from domain.errors import ErrorCode
from starter.api.deps import AccountIdPath, OperatorHeader, ServicesDep, operator_allowed
from starter.api.errors import error_responses
from starter.api.idempotency import IdempotencyDep

router = APIRouter(prefix="/v1/admin/accounts/{account_id}/sms", tags=["operators"])


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
    permit: Annotated[Permit, operator_allowed(Action.GOODWILL)],
    body: GoodwillIn,
    services: ServicesDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> GoodwillOut:
    """Goodwill credits until the next renewal (an ``adjust`` grant); once per ``request_id``."""
    return await operations.goodwill(services, permit, body, operator)


@router.post(
    "/retry-payment",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_PAST_DUE, ErrorCode.SERVICE_UNAVAILABLE
    ),
)
async def retry_payment(
    account_id: AccountIdPath,
    permit: Annotated[Permit, operator_allowed(Action.RETRY_PAYMENT)],
    services: ServicesDep,
    idempotency: IdempotencyDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> RetryOut:
    """Retry a past-due add-on's declined charge now (409 ``not_past_due`` when
    nothing is past due); the outcome shows in the payments and the add-on's status."""
    await asyncio.to_thread(idempotency.claim, admin_scope(account_id))
    key = idempotency.key or uuid.uuid4().hex
    return await operations.retry_payment(services, permit, key, operator)


@router.post(
    "/addon/cancel",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.SERVICE_UNAVAILABLE,
        ErrorCode.PAYMENT_PROVIDER_ERROR,
    ),
)
async def cancel(
    account_id: AccountIdPath,
    permit: Annotated[Permit, operator_allowed(Action.OPERATOR_CANCEL)],
    body: CancelIn,
    services: ServicesDep,
    idempotency: IdempotencyDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> CancelOut:
    """``period_end``: the customer's cancel. ``now``: the add-on ends at once (credits
    expire, status cancelled), with ``prorated`` the unused days of the paid period refunded."""
    await asyncio.to_thread(idempotency.claim, admin_scope(account_id), body)
    key = idempotency.key or uuid.uuid4().hex
    return await operations.cancel(services, permit, body, key, operator)


@router.get("/audit", responses=error_responses(ErrorCode.UNAUTHENTICATED))
def audit(
    account_id: AccountIdPath,
    permit: Annotated[Permit, operator_allowed(Action.READ_AUDIT)],
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditList:
    """The operator actions on the account, newest first."""
    return operations.audit(services, permit, limit)

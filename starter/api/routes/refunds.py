"""Operator refunds (admin token, API.md "Operators"; application/refunds.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, status

from application import refunds
from application.authorization import Action, Permit
from application.errors import ApiError
from application.operator_audit import admin_scope
from application.refunds import RefundIn
from contracts.operator import DEFAULT_OPERATOR, RefundedPayment
from domain.errors import ErrorCode
from starter.api.deps import AccountIdPath, OperatorHeader, ServicesDep, operator_allowed
from starter.api.errors import error_responses
from starter.api.idempotency import IdempotencyDep

router = APIRouter(prefix="/v1/admin/accounts/{account_id}/sms", tags=["operators"])


@router.post(
    "/refunds",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.NOT_FOUND,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def refund(
    account_id: AccountIdPath,
    permit: Annotated[Permit, operator_allowed(Action.REFUND)],
    body: RefundIn,
    services: ServicesDep,
    idempotency: IdempotencyDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> RefundedPayment:
    """Refund a capture in part or in full, never beyond what it still holds (409
    ``conflict``); with ``revoke_credits``, take back the credits it bought in proportion
    (all that remain once refunded in full, never below zero). Needs ``Idempotency-Key``."""
    if idempotency.key is None:
        raise ApiError(ErrorCode.INVALID_REQUEST, "A refund needs an Idempotency-Key header.")
    await asyncio.to_thread(idempotency.claim, admin_scope(account_id), body)
    return await refunds.refund(services, permit, body, idempotency.key, operator)

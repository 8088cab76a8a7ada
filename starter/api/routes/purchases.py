"""Purchases of the add-on and credit packs: create (quote), read, list, confirm, cancel
(application/purchases.py); this layer parses, keeps the Idempotency-Key promise and
answers."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Response, status

from application import purchases
from application.authorization import Action, Permit
from application.purchases import PurchaseList
from contracts.purchase import PurchaseView
from domain.enums import PurchaseStatus
from domain.errors import ErrorCode
from starter.api.deps import IdPath, ServicesDep, allowed
from starter.api.errors import error_responses
from starter.api.idempotency import IdempotencyDep
from starter.api.purchase_request import PurchaseCreate

router = APIRouter(prefix="/v1/accounts/{account_id}/sms/purchases", tags=["purchases"])

Reader = Annotated[Permit, allowed(Action.READ_BILLING)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.PLAN_NOT_ELIGIBLE,
        ErrorCode.ADDON_ALREADY_ACTIVE,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def create_purchase(
    account_id: str,
    permit: Annotated[Permit, allowed(Action.BUY)],
    body: PurchaseCreate,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> PurchaseView:
    """Check permission and eligibility, price the item, and answer with the quote."""
    await asyncio.to_thread(idempotency.claim, permit.account_id, body)
    return await purchases.create(services, permit, body.purchase_item, idempotency.key)


@router.get("", responses=error_responses(ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_FOUND))
def list_purchases(
    account_id: str,
    permit: Reader,
    services: ServicesDep,
    status: PurchaseStatus | None = None,
    limit: int = 50,
) -> PurchaseList:
    """The account's purchases, newest first; ``status`` filters (e.g. the pending quotes)."""
    return purchases.recent(services, permit, status, limit)


@router.get(
    "/{purchase_id}", responses=error_responses(ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_FOUND)
)
def get_purchase(
    account_id: str, purchase_id: IdPath, permit: Reader, services: ServicesDep
) -> PurchaseView:
    return purchases.read(services, permit, purchase_id)


@router.post(
    "/{purchase_id}/confirm",
    responses={
        status.HTTP_202_ACCEPTED: {
            "model": PurchaseView,
            "description": "Still processing: the payment goes on; read the purchase again",
        },
        **error_responses(
            ErrorCode.UNAUTHENTICATED,
            ErrorCode.PAYMENT_DECLINED,
            ErrorCode.BILLING_PERMISSION_REQUIRED,
            ErrorCode.NOT_FOUND,
            ErrorCode.QUOTE_EXPIRED,
            ErrorCode.NOT_AWAITING_CONFIRMATION,
            ErrorCode.ADDON_ALREADY_ACTIVE,
            ErrorCode.ADDON_NOT_ACTIVE,
            ErrorCode.PLAN_NOT_ELIGIBLE,
            ErrorCode.PAYMENT_PROVIDER_ERROR,
            ErrorCode.SERVICE_UNAVAILABLE,
        ),
    },
)
async def confirm_purchase(
    account_id: str,
    purchase_id: IdPath,
    permit: Annotated[Permit, allowed(Action.CONFIRM_PURCHASE)],
    services: ServicesDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> PurchaseView:
    """Claim the item, capture the payment and grant the credits; answers when done, or
    202 ``processing`` when the payment outlasts the API's wait (it goes on). Retried
    with the same Idempotency-Key after a lost answer, it answers the outcome."""
    repeat = await asyncio.to_thread(idempotency.claim, permit.account_id)
    view = await purchases.confirm(services, permit, purchase_id, repeat)
    if view.status is PurchaseStatus.PROCESSING:
        response.status_code = status.HTTP_202_ACCEPTED
    return view


@router.post(
    "/{purchase_id}/cancel",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.NOT_AWAITING_CONFIRMATION,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel_purchase(
    account_id: str,
    purchase_id: IdPath,
    permit: Annotated[Permit, allowed(Action.CANCEL_PURCHASE)],
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> PurchaseView:
    repeat = await asyncio.to_thread(idempotency.claim, permit.account_id)
    return await purchases.decide(services, permit, purchase_id, repeat)

"""Sending: debit the credits of a send or a batch, and estimate one (API.md "Sending";
application/sending.py, application/batch_sending.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks

from application import batch_sending, sending
from application.authorization import Action, Permit
from application.batch_sending import BatchIn, BatchOut
from application.sending import EstimateOut, SendIn, UsageOut
from domain.errors import ErrorCode
from starter.api.deps import AccountIdPath, ServicesDep, allowed
from starter.api.errors import error_responses
from starter.api.follow_ups import start_after_response
from starter.api.idempotency import IdempotencyDep

router = APIRouter(tags=["sending"])

Sender = Annotated[Permit, allowed(Action.SEND)]


@router.post("/v1/sms/estimate")
def estimate(body: SendIn, services: ServicesDep) -> EstimateOut:
    """What a send would cost; debits nothing."""
    return sending.estimate(services.catalogue, body)


@router.post(
    "/v1/accounts/{account_id}/sms/usage",
    responses=error_responses(
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.INSUFFICIENT_CREDITS,
        ErrorCode.REGISTRATION_REQUIRED,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.NOT_FOUND,
    ),
)
async def record_usage(
    account_id: AccountIdPath,
    permit: Sender,
    body: SendIn,
    services: ServicesDep,
    idempotency: IdempotencyDep,
    background: BackgroundTasks,
) -> UsageOut:
    """Debit a send's credits from the soonest-expiring grants, in one transaction."""
    request = idempotency.first_request(account_id, body)
    sent = await sending.record_usage(services, permit, body, idempotency.key, request)
    start_after_response(sent.follow_ups, background, services)  # a low-balance event, a top-up
    return sent.answer


@router.post(
    "/v1/accounts/{account_id}/sms/usage/batch",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED, ErrorCode.INVALID_REQUEST, ErrorCode.NOT_FOUND
    ),
)
async def record_usage_batch(
    account_id: AccountIdPath,
    permit: Sender,
    body: BatchIn,
    services: ServicesDep,
    background: BackgroundTasks,
) -> BatchOut:
    """Debit each message in the order sent; once credits run out the rest answer
    ``insufficient_credits``; a message whose key was spent before answers its first
    result and is not debited again."""
    sent = await batch_sending.record_batch(services, permit, body)
    start_after_response(sent.follow_ups, background, services)  # alerts, auto top-up
    return sent.answer

"""The add-on itself (user token): cancel it at the end of the paid period, or take
the cancel back before then."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone, answer
from contracts.subscription import (
    CANCEL_UPDATE,
    RESUME_UPDATE,
    CancelAccepted,
    CancelAddon,
    ResumeAccepted,
    ResumeAddon,
    subscription_workflow_id,
)
from domain.addon import CANCELLABLE_STATUSES
from domain.enums import AddonStatus
from domain.errors import ErrorCode
from starter.api.deps import BillingCaller, ServicesDep
from starter.api.errors import error_responses
from store.db import read_only
from store.models import AddonSubscription

router = APIRouter(prefix="/v1/accounts/{account_id}/sms/addon", tags=["addon"])


class CancelOut(BaseModel):
    status: AddonStatus
    ends_at: datetime


def _not_active() -> ApiError:
    return ApiError(ErrorCode.ADDON_NOT_ACTIVE, "The account has no active SMS add-on to cancel.")


def _addon_status(services: Services, account_id: str) -> AddonStatus:
    with read_only(services.sessions) as session:
        addon = session.get(AddonSubscription, account_id)
        return AddonStatus.INACTIVE if addon is None else AddonStatus(addon.status)


@router.post(
    "/cancel",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel_addon(account_id: str, caller: BillingCaller, services: ServicesDep) -> CancelOut:
    """Cancel at the end of the paid period: credits keep renewing until then, and
    nothing is charged again. Repeating it answers the same end."""
    if await asyncio.to_thread(_addon_status, services, account_id) not in CANCELLABLE_STATUSES:
        raise _not_active()
    client = await services.temporal.client()
    handle = client.get_workflow_handle(subscription_workflow_id(account_id))
    request = CancelAddon(account_id=account_id, requested_by=caller.user_id)
    call = handle.execute_update(CANCEL_UPDATE, request, result_type=CancelAccepted)
    try:
        accepted = await answer(services, call, "The cancellation is still being processed.")
    except WorkflowGone as gone:  # the add-on ended meanwhile
        raise _not_active() from gone
    return CancelOut(status=accepted.status, ends_at=accepted.ends_at)


class ResumeOut(BaseModel):
    status: AddonStatus


def _not_cancelling() -> ApiError:
    return ApiError(ErrorCode.ADDON_NOT_CANCELLING, "The SMS add-on is not being cancelled.")


@router.post(
    "/resume",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.ADDON_NOT_CANCELLING,
        ErrorCode.PLAN_NOT_ELIGIBLE,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def resume_addon(account_id: str, caller: BillingCaller, services: ServicesDep) -> ResumeOut:
    """Undo a cancel before it takes effect: the add-on stays as it was, and nothing
    is charged until its next renewal."""
    if await asyncio.to_thread(_addon_status, services, account_id) is not AddonStatus.CANCELLING:
        raise _not_cancelling()
    client = await services.temporal.client()
    handle = client.get_workflow_handle(subscription_workflow_id(account_id))
    request = ResumeAddon(account_id=account_id, requested_by=caller.user_id)
    call = handle.execute_update(RESUME_UPDATE, request, result_type=ResumeAccepted)
    try:
        accepted = await answer(services, call, "The resume is still being processed.")
    except WorkflowGone as gone:  # the add-on ended meanwhile
        raise _not_cancelling() from gone
    return ResumeOut(status=accepted.status)

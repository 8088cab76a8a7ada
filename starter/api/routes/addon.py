"""The add-on itself (user token, billing permission): cancel it at the end of the paid
period, take the cancel back before then, end a credit pack at the next renewal
(application/addon.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from application import addon
from application.addon import CancelOut, ResumeOut
from application.authorization import Action, Permit
from contracts.subscription import AddonLine
from domain.errors import ErrorCode
from starter.api.deps import IdPath, ServicesDep, allowed
from starter.api.errors import error_responses

router = APIRouter(prefix="/v1/accounts/{account_id}/sms", tags=["addon"])


@router.post(
    "/addon/cancel",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel_addon(
    account_id: str,
    permit: Annotated[Permit, allowed(Action.CANCEL_ADDON)],
    services: ServicesDep,
) -> CancelOut:
    """Cancel at the end of the paid period: credits keep renewing until then, and
    nothing is charged again. Repeating it answers the same end."""
    return await addon.cancel(services, permit)


@router.post(
    "/addon/resume",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.ADDON_NOT_CANCELLING,
        ErrorCode.PLAN_NOT_ELIGIBLE,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def resume_addon(
    account_id: str,
    permit: Annotated[Permit, allowed(Action.RESUME_ADDON)],
    services: ServicesDep,
) -> ResumeOut:
    """Undo a cancel before it takes effect: the add-on stays as it was, and nothing
    is charged until its next renewal."""
    return await addon.resume(services, permit)


@router.post(
    "/lines/{line_id}/cancel",
    tags=["addon"],
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.CONFLICT,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel_line(
    account_id: str,
    line_id: IdPath,
    permit: Annotated[Permit, allowed(Action.END_LINE)],
    services: ServicesDep,
) -> AddonLine:
    """End a credit pack at the next renewal: its credits stay until then, the
    allotment and the recurring charge drop from then on; no refund. The tier line
    answers 409 ``conflict`` (cancel the add-on instead)."""
    return await addon.end_line(services, permit, line_id)

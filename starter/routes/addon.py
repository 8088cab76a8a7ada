"""The add-on itself (user token): cancel it at the end of the paid period."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.addon import CANCELLABLE_STATUSES
from domain.enums import AddonStatus
from domain.errors import ErrorCode
from domain.subscription import (
    CANCEL_UPDATE,
    CancelAccepted,
    CancelAddon,
    subscription_workflow_id,
)
from starter.deps import AccountCaller, ServicesDep
from starter.errors import ApiError, error_responses
from starter.services import Services
from store.models import AddonSubscription

router = APIRouter(prefix="/v1/accounts/{account_id}/sms/addon", tags=["addon"])


class CancelOut(BaseModel):
    status: AddonStatus
    ends_at: datetime


def _not_active() -> ApiError:
    return ApiError(ErrorCode.ADDON_NOT_ACTIVE, "The account has no active SMS add-on to cancel.")


def _addon_status(services: Services, account_id: str) -> AddonStatus:
    with services.sessions() as session:
        addon = session.get(AddonSubscription, account_id)
        return AddonStatus.INACTIVE if addon is None else AddonStatus(addon.status)


@router.post(
    "/cancel",
    responses=error_responses(
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel_addon(account_id: str, caller: AccountCaller, services: ServicesDep) -> CancelOut:
    """Cancel at the end of the paid period: credits keep renewing until then, and
    nothing is charged again. Repeating it answers the same end."""
    if not caller.may_buy:
        raise ApiError(
            ErrorCode.BILLING_PERMISSION_REQUIRED,
            "Only the primary admin or a user with the billing permission can cancel the add-on.",
        )
    if _addon_status(services, account_id) not in CANCELLABLE_STATUSES:
        raise _not_active()
    client = await services.temporal.client()
    handle = client.get_workflow_handle(subscription_workflow_id(account_id))
    request = CancelAddon(account_id=account_id, requested_by=caller.user_id)
    try:
        accepted = await handle.execute_update(CANCEL_UPDATE, request, result_type=CancelAccepted)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == ErrorCode.ADDON_NOT_ACTIVE:
            raise _not_active() from error
        raise
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:  # the add-on ended meanwhile
            raise _not_active() from error
        raise
    return CancelOut(status=accepted.status, ends_at=accepted.ends_at)

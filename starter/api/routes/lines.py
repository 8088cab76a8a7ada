"""The add-on's recurring lines (billing permission): end a credit pack at the next
renewal. The subscription workflow writes it, between its renewals."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone, answer
from contracts.subscription import END_LINE_UPDATE, AddonLine, EndLine, subscription_workflow_id
from domain.addon import LIVE_STATUSES
from domain.enums import AddonStatus
from domain.errors import ErrorCode
from starter.api.deps import BillingCaller, IdPath, ServicesDep
from starter.api.errors import error_responses
from store.db import read_only
from store.lines import addon_lines
from store.models import AddonSubscription

router = APIRouter(prefix="/v1/accounts/{account_id}/sms/lines", tags=["addon"])


def _line(services: Services, account_id: str, line_id: str) -> AddonLine | None:
    """The line as the billing page lists it, when the add-on is live."""
    with read_only(services.sessions) as session:
        addon = session.get(AddonSubscription, account_id)
        if addon is None or AddonStatus(addon.status) not in LIVE_STATUSES:
            return None
        return next((line for line in addon_lines(session, addon) if line.line_id == line_id), None)


def _not_found(line_id: str) -> ApiError:
    return ApiError(ErrorCode.NOT_FOUND, f"Line {line_id} was not found.")


@router.post(
    "/{line_id}/cancel",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.CONFLICT,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel_line(
    account_id: str, line_id: IdPath, caller: BillingCaller, services: ServicesDep
) -> AddonLine:
    """End a credit pack at the next renewal: its credits stay until then, the
    allotment and the recurring charge drop from then on; no refund. The tier line
    answers 409 ``conflict`` (cancel the add-on instead)."""
    if await asyncio.to_thread(_line, services, account_id, line_id) is None:
        raise _not_found(line_id)
    client = await services.temporal.client()
    handle = client.get_workflow_handle(subscription_workflow_id(account_id))
    request = EndLine(account_id=account_id, line_id=line_id, requested_by=caller.user_id)
    call = handle.execute_update(END_LINE_UPDATE, request, result_type=AddonLine)
    try:
        return await answer(services, call, "Ending the line is still being processed.")
    except WorkflowGone as gone:  # the add-on ended meanwhile
        raise _not_found(line_id) from gone

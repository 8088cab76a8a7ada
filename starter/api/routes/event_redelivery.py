"""An operator sends a failed webhook delivery again (admin token; ``sms-addon ops
redeliver``; application/redelivery.py); the new round's workflow starts after the
answer (or from the event sweep, if that start is lost)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, status

from application import redelivery
from application.alerts import DeliveryOut
from application.authorization import Action, Permit
from contracts.operator import DEFAULT_OPERATOR
from domain.errors import ErrorCode
from domain.events import DeliveryState
from domain.inputs import ID_PATTERN
from starter.api.deps import AccountIdPath, OperatorHeader, ServicesDep, operator_allowed
from starter.api.errors import error_responses
from starter.api.follow_ups import start_after_response

router = APIRouter(prefix="/v1/admin/accounts/{account_id}/sms", tags=["operators"])

EventIdPath = Annotated[str, Path(pattern=ID_PATTERN)]


@router.post(
    "/events/{event_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.NOT_FOUND,
        ErrorCode.CONFLICT,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def redeliver(
    account_id: AccountIdPath,
    permit: Annotated[Permit, operator_allowed(Action.REDELIVER)],
    event_id: EventIdPath,
    services: ServicesDep,
    background: BackgroundTasks,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> redelivery.RedeliveryOut:
    """Send a failed event again: a new delivery round (pending, attempts from zero,
    retried as the first was). 409 ``conflict`` unless its delivery failed and the
    account still has a webhook."""
    follow_up = await asyncio.to_thread(redelivery.reopen, services, permit, event_id, operator)
    start_after_response([follow_up], background, services)
    return redelivery.RedeliveryOut(
        event_id=event_id, delivery=DeliveryOut(state=DeliveryState.PENDING, attempts=0)
    )

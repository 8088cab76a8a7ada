"""The operator actions' calls to the subscription workflow, through
``application.temporal_calls.answer``: goodwill (update), retry a past-due charge (signal),
cancel at period end (the customer's update) or end now (``end_now``)."""

from __future__ import annotations

import asyncio

from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone, answer
from contracts.operator import END_NOW_UPDATE, EndedNow, EndNow
from contracts.subscription import (
    CANCEL_UPDATE,
    GRANT_GOODWILL_UPDATE,
    RETRY_PAYMENT_SIGNAL,
    CancelAccepted,
    CancelAddon,
    GoodwillGranted,
    GrantGoodwill,
    RetryPayment,
    subscription_workflow_id,
)
from domain.addon import CANCELLABLE_STATUSES, LIVE_STATUSES
from domain.enums import AddonStatus
from domain.errors import ErrorCode
from store.db import read_only
from store.models import AddonSubscription

STILL_WORKING = "The subscription is still acting on it; read the add-on again shortly."


def not_active(what: str) -> ApiError:
    return ApiError(ErrorCode.ADDON_NOT_ACTIVE, f"The account has no SMS add-on {what}.")


def addon_status(services: Services, account_id: str) -> AddonStatus:
    with read_only(services.sessions) as session:
        addon = session.get(AddonSubscription, account_id)
        return AddonStatus.INACTIVE if addon is None else AddonStatus(addon.status)


async def _status(services: Services, account_id: str) -> AddonStatus:
    return await asyncio.to_thread(addon_status, services, account_id)


async def give_goodwill(
    services: Services, account_id: str, credits: int, reason: str, request_id: str
) -> GoodwillGranted:
    if await _status(services, account_id) not in LIVE_STATUSES:
        raise not_active("to give credits to")
    client = await services.temporal.client()
    handle = client.get_workflow_handle(subscription_workflow_id(account_id))
    grant = GrantGoodwill(
        account_id=account_id, credits=credits, reason=reason, request_id=request_id
    )
    call = handle.execute_update(GRANT_GOODWILL_UPDATE, grant, result_type=GoodwillGranted)
    try:
        return await answer(services, call, STILL_WORKING)
    except WorkflowGone as gone:
        raise not_active("to give credits to") from gone


def not_past_due(status: AddonStatus) -> ApiError:
    return ApiError(
        ErrorCode.NOT_PAST_DUE,
        f"The SMS add-on is {status}, not past due: there is no declined charge to retry.",
    )


async def request_retry(services: Services, account_id: str, operator: str) -> None:
    """Signal ``retry_payment``; 409 ``not_past_due`` unless the add-on is past due."""
    status = await _status(services, account_id)
    if status is not AddonStatus.PAST_DUE:
        raise not_past_due(status)
    client = await services.temporal.client()
    handle = client.get_workflow_handle(subscription_workflow_id(account_id))
    signal = handle.signal(
        RETRY_PAYMENT_SIGNAL, RetryPayment(account_id=account_id, requested_by=operator)
    )
    try:
        await answer(services, signal, STILL_WORKING)
    except WorkflowGone as gone:  # it ended between the read and the signal
        raise not_past_due(await _status(services, account_id)) from gone


async def cancel_addon(
    services: Services, account_id: str, operator: str, now: bool, prorated: bool
) -> EndedNow:
    """At period end (the customer's cancel) or now; the answer in one shape."""
    status = await _status(services, account_id)
    allowed = LIVE_STATUSES if now else CANCELLABLE_STATUSES
    if status not in allowed:
        raise not_active("to cancel")
    client = await services.temporal.client()
    handle = client.get_workflow_handle(subscription_workflow_id(account_id))
    try:
        if now:
            end = EndNow(account_id=account_id, requested_by=operator, prorated=prorated)
            return await answer(
                services,
                handle.execute_update(END_NOW_UPDATE, end, result_type=EndedNow),
                STILL_WORKING,
            )
        request = CancelAddon(account_id=account_id, requested_by=operator)
        accepted = await answer(
            services,
            handle.execute_update(CANCEL_UPDATE, request, result_type=CancelAccepted),
            STILL_WORKING,
        )
    except WorkflowGone as gone:
        raise not_active("to cancel") from gone
    return EndedNow(status=accepted.status, ends_at=accepted.ends_at, credits_expired=0, refunds=[])

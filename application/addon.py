"""The add-on itself (billing permission): cancel it at the end of the paid period, take
the cancel back before then, end a credit pack at the next renewal. A tier change is a
purchase of another tier (``application.purchases``).

The subscription workflow decides whether the add-on is in a state to take each one
(its updates' validators); nothing is read first. No running subscription means no
add-on to act on.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from application.authorization import Action, Permit
from application.clients.subscription import SubscriptionClient
from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone
from contracts.subscription import AddonLine
from domain.enums import AddonStatus
from domain.errors import ErrorCode


class CancelOut(BaseModel):
    status: AddonStatus
    ends_at: datetime


class ResumeOut(BaseModel):
    status: AddonStatus


async def cancel(services: Services, permit: Permit) -> CancelOut:
    """Cancel at the end of the paid period: credits keep renewing until then, and
    nothing is charged again. Repeating it answers the same end."""
    permit.require(Action.CANCEL_ADDON)
    client = SubscriptionClient(services, permit.account_id)
    try:
        accepted = await client.cancel(
            permit.caller.user_id, "The cancellation is still being processed."
        )
    except WorkflowGone as gone:
        raise ApiError(
            ErrorCode.ADDON_NOT_ACTIVE, "The account has no active SMS add-on to cancel."
        ) from gone
    return CancelOut(status=accepted.status, ends_at=accepted.ends_at)


async def resume(services: Services, permit: Permit) -> ResumeOut:
    """Undo a cancel before it takes effect: the add-on stays as it was, and nothing
    is charged until its next renewal."""
    permit.require(Action.RESUME_ADDON)
    client = SubscriptionClient(services, permit.account_id)
    try:
        accepted = await client.resume(permit.caller.user_id)
    except WorkflowGone as gone:
        raise ApiError(
            ErrorCode.ADDON_NOT_CANCELLING, "The SMS add-on is not being cancelled."
        ) from gone
    return ResumeOut(status=accepted.status)


async def end_line(services: Services, permit: Permit, line_id: str) -> AddonLine:
    """End a credit pack at the next renewal: its credits stay until then, the
    allotment and the recurring charge drop from then on; no refund. The tier line
    answers 409 ``conflict`` (cancel the add-on instead)."""
    permit.require(Action.END_LINE)
    client = SubscriptionClient(services, permit.account_id)
    try:
        return await client.end_line(line_id, permit.caller.user_id)
    except WorkflowGone as gone:
        raise ApiError(ErrorCode.NOT_FOUND, f"Line {line_id} was not found.") from gone

"""Operator actions on the subscription (admin token, API.md "Operators"): goodwill
credits, retry a past-due payment, cancel at period end or end now, and the audit.

Each is idempotent by its request key (``Idempotency-Key``; goodwill by its
``request_id``) and audited once per key: a repeat answers what the first one did,
from its audit record (application/operator_audit.py), without acting again. The
subscription's updates decide whether the add-on can take each one; a retry is a
signal, which answers nothing, so it is checked against the add-on's row first.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, model_validator

from application.authorization import Action, Permit
from application.clients.subscription import SubscriptionClient
from application.context import Services
from application.errors import ApiError, WorkflowRefusal
from application.operator_audit import Reason, first_answer, record_action
from application.temporal_calls import WorkflowGone
from contracts.operator import AuditAction, RefundedPayment, operator_update_id
from domain.addon import LIVE_STATUSES
from domain.calendar import as_utc
from domain.enums import AddonStatus
from domain.errors import ErrorCode
from domain.inputs import Id, InputModel
from store.db import read_only
from store.models import AddonSubscription
from store.operator import audit_of


class GoodwillIn(InputModel):
    credits: Annotated[int, Field(gt=0, le=10_000_000)]
    reason: Reason
    request_id: Id


class GoodwillOut(BaseModel):
    credits: int
    expires_at: datetime
    balance: int


class RetryOut(BaseModel):
    account_id: str
    status: AddonStatus
    retry_requested: bool


class CancelIn(InputModel):
    when: Literal["period_end", "now"]
    refund: Literal["none", "prorated"] = "none"
    reason: Reason = "operator cancel"

    @model_validator(mode="after")
    def _refund_only_when_ending_now(self) -> Self:
        if self.when == "period_end" and self.refund != "none":
            raise ValueError("only an end now can refund the unused days")
        return self


class CancelOut(BaseModel):
    status: AddonStatus
    ends_at: datetime
    credits_expired: int = 0
    refunds: list[RefundedPayment] = []


class RefusedOut(BaseModel):
    """An error answered after the action was taken (an end whose refund the provider
    refused), as API.md's error body: kept in the audit so a repeat answers it again."""

    error: dict[str, Any]


# The audit's reference of an end whose prorated refund the provider refused.
REFUND_REFUSED = "add-on cancelled; the prorated refund was refused by the provider"


class AuditOut(BaseModel):
    at: datetime
    operator: str
    action: AuditAction
    account_id: str
    reason: str
    payload: dict[str, Any]
    reference: str | None = Field(description="The ledger entry or payment it wrote.")


class AuditList(BaseModel):
    audit: list[AuditOut]


def not_active(what: str) -> ApiError:
    return ApiError(ErrorCode.ADDON_NOT_ACTIVE, f"The account has no SMS add-on {what}.")


def _nothing_to_cancel(services: Services, account_id: str) -> ApiError:
    """No subscription runs, or none kept this request's update: the add-on was never
    bought, or has ended, as its row says."""
    with read_only(services.sessions) as session:
        addon = session.get(AddonSubscription, account_id)
        if addon is None or addon.ends_at is None or AddonStatus(addon.status) in LIVE_STATUSES:
            return not_active("to cancel")
        status, ends_at = addon.status, as_utc(addon.ends_at)
    return ApiError(
        ErrorCode.ADDON_NOT_ACTIVE,
        f"The SMS add-on has ended ({status} on {ends_at:%Y-%m-%d %H:%M} UTC): "
        "there is nothing left to cancel.",
        status=status,
        ends_at=ends_at.isoformat(),
    )


def _addon_status(services: Services, account_id: str) -> AddonStatus:
    with read_only(services.sessions) as session:
        addon = session.get(AddonSubscription, account_id)
        return AddonStatus.INACTIVE if addon is None else AddonStatus(addon.status)


async def _audited(
    services: Services,
    permit: Permit,
    action: AuditAction,
    key: str,
    operator: str,
    reason: str,
    payload: dict[str, Any],
    answer: BaseModel,
    reference: str | None,
) -> None:
    await asyncio.to_thread(
        lambda: record_action(
            services,
            account_id=permit.account_id,
            action=action,
            operator=operator,
            reason=reason,
            key=key,
            payload=payload,
            answer=answer,
            reference=reference,
        )
    )


async def goodwill(
    services: Services, permit: Permit, body: GoodwillIn, operator: str
) -> GoodwillOut:
    """Goodwill credits until the next renewal (an ``adjust`` grant); once per ``request_id``."""
    permit.require(Action.GOODWILL)
    action, key, account_id = AuditAction.GOODWILL, body.request_id, permit.account_id
    first = await asyncio.to_thread(first_answer, services, account_id, action, key)
    if first is not None:
        return GoodwillOut.model_validate(first)
    client = SubscriptionClient(services, account_id)
    update_id = operator_update_id(action, key)
    try:
        granted = await client.grant_goodwill(body.credits, body.reason, key, update_id)
    except WorkflowGone as gone:
        raise not_active("to give credits to") from gone
    out = GoodwillOut.model_validate(granted.model_dump())
    payload = {"credits": body.credits, "request_id": key}
    reference = f"goodwill:{account_id}:{key}"
    await _audited(services, permit, action, key, operator, body.reason, payload, out, reference)
    return out


def not_past_due(status: AddonStatus) -> ApiError:
    return ApiError(
        ErrorCode.NOT_PAST_DUE,
        f"The SMS add-on is {status}, not past due: there is no declined charge to retry.",
    )


async def retry_payment(services: Services, permit: Permit, key: str, operator: str) -> RetryOut:
    """Retry a past-due add-on's declined charge now (409 ``not_past_due`` when nothing
    is past due); the outcome shows in the payments and the add-on's status."""
    permit.require(Action.RETRY_PAYMENT)
    action, account_id = AuditAction.RETRY_PAYMENT, permit.account_id
    first = await asyncio.to_thread(first_answer, services, account_id, action, key)
    if first is not None:
        return RetryOut.model_validate(first)
    status = await asyncio.to_thread(_addon_status, services, account_id)
    if status is not AddonStatus.PAST_DUE:
        raise not_past_due(status)
    try:
        await SubscriptionClient(services, account_id).retry_payment(operator)
    except WorkflowGone as gone:  # it ended between the read and the signal
        raise not_past_due(await asyncio.to_thread(_addon_status, services, account_id)) from gone
    out = RetryOut(account_id=account_id, status=AddonStatus.PAST_DUE, retry_requested=True)
    await _audited(services, permit, action, key, operator, "retry payment", {}, out, None)
    return out


async def cancel(
    services: Services, permit: Permit, body: CancelIn, key: str, operator: str
) -> CancelOut:
    """``period_end``: the customer's cancel. ``now``: the add-on ends at once (credits
    expire, status cancelled), with ``prorated`` the unused days of the paid period refunded."""
    permit.require(Action.OPERATOR_CANCEL)
    now = body.when == "now"
    action = AuditAction.END_NOW if now else AuditAction.CANCEL_AT_PERIOD_END
    first = await asyncio.to_thread(first_answer, services, permit.account_id, action, key)
    if first is not None:
        return _answered_before(first)
    client = SubscriptionClient(services, permit.account_id)
    # A repeat after a 503 attaches to the first request's update (an end now's refund
    # may still be going) and answers its outcome, which is then audited once.
    update_id = operator_update_id(action, key)
    try:
        if now:
            prorated = body.refund == "prorated"
            ended = await client.end_now(operator, prorated=prorated, update_id=update_id)
            out = CancelOut.model_validate(ended.model_dump())
        else:
            accepted = await client.cancel(operator, update_id=update_id)
            out = CancelOut(status=accepted.status, ends_at=accepted.ends_at)
    except WorkflowGone as gone:
        raise await asyncio.to_thread(_nothing_to_cancel, services, permit.account_id) from gone
    except WorkflowRefusal as refused:
        if refused.code is not ErrorCode.PAYMENT_PROVIDER_ERROR:
            raise
        # Ended, its refund refused: the end is audited (once per key) though it answers
        # an error, and a repeat answers that error again from the record.
        error = {"code": refused.code.value, "message": refused.message, **refused.details}
        payload, kept = body.model_dump(mode="json"), RefusedOut(error=error)
        await _audited(
            services, permit, action, key, operator, body.reason, payload, kept, REFUND_REFUSED
        )
        raise
    reference = ", ".join(r.payment_id for r in out.refunds) or f"add-on {out.status.value}"
    payload = body.model_dump(mode="json")
    await _audited(services, permit, action, key, operator, body.reason, payload, out, reference)
    return out


def _answered_before(first: dict[str, Any]) -> CancelOut:
    """The first request's answer: what it did, or the error it answered."""
    if "error" not in first:
        return CancelOut.model_validate(first)
    error = dict(RefusedOut.model_validate(first).error)
    code, message = ErrorCode(error.pop("code")), str(error.pop("message"))
    raise ApiError(code, message, **error)


def audit(services: Services, permit: Permit, limit: int) -> AuditList:
    """The operator actions on the account, newest first."""
    permit.require(Action.READ_AUDIT)
    with read_only(services.sessions) as session:
        return AuditList(
            audit=[
                AuditOut(
                    at=r.at,
                    operator=r.operator,
                    action=AuditAction(r.action),
                    account_id=r.account_id,
                    reason=r.reason,
                    payload=r.payload,
                    reference=r.reference,
                )
                for r in audit_of(session, permit.account_id, limit)
            ]
        )

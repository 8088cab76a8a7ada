"""Operator actions (admin token, API.md "Operators"): refund, goodwill credits, retry a
past-due payment, cancel at period end or end now, and the audit they write.

Each action is idempotent by its request key (``Idempotency-Key``; goodwill by its
``request_id``) and audited once per key: a repeat answers what the first one did,
from its audit record, without acting again. Refunds are recorded before the gateway
is called (store/operator.py) and run by the ``SmsOperatorRefund`` workflow.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, status
from pydantic import BaseModel, Field
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from domain.enums import AddonStatus
from domain.errors import ErrorCode
from domain.inputs import Id, InputModel
from domain.operator import (
    DEFAULT_OPERATOR,
    AuditAction,
    OperatorRefundStart,
    RefundedPayment,
    RefundRequestStatus,
    operator_refund_workflow_id,
)
from domain.subscription import REASON_MAX_LENGTH
from starter.deps import AccountIdPath, AdminDep, ServicesDep
from starter.errors import ApiError, error_responses
from starter.idempotency import IdempotencyDep
from starter.operator_calls import cancel_addon, give_goodwill, request_retry
from starter.services import Services
from starter.temporal_calls import WorkflowGone, answer
from store.db import read_only, transaction
from store.models import AuditRecord, Payment, RefundRequest
from store.operator import (
    audit_of,
    find_audit,
    record_refund_request,
    refunded_payment,
    write_audit,
)
from workflows.operator_refund import OperatorRefundWorkflow

router = APIRouter(
    prefix="/v1/admin/accounts/{account_id}/sms", tags=["operators"], dependencies=[AdminDep]
)

Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX_LENGTH, pattern=r"^[^\x00]+$")]
OperatorHeader = Annotated[
    str,
    Header(
        alias="X-Operator",
        min_length=1,
        max_length=64,
        pattern=r"^[\x20-\x7e]+$",
        description="Who acts, for the audit (default: admin).",
    ),
]
REFUND_PENDING = "The refund is still being processed; repeat the request with the same key."


class RefundIn(InputModel):
    payment_id: Id
    amount_minor: Annotated[int, Field(gt=0, le=100_000_000)]
    reason: Reason
    revoke_credits: bool = False


class GoodwillIn(InputModel):
    credits: Annotated[int, Field(gt=0, le=10_000_000)]
    reason: Reason
    request_id: Id


class CancelIn(InputModel):
    when: Literal["period_end", "now"]
    refund: Literal["none", "prorated"] = "none"
    reason: Reason = "operator cancel"


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


def _scope(account_id: str) -> str:
    return f"admin:{account_id}"


def _refund_of(services: Services, request_id: int) -> RefundedPayment | None:
    """A settled request's refund payment, as the API shows it; None while in flight."""
    with read_only(services.sessions) as session:
        request = session.get(RefundRequest, request_id)
        assert request is not None
        if request.status == RefundRequestStatus.FAILED.value and request.refund_payment_id is None:
            raise ApiError(ErrorCode.CONFLICT, "The provider refused this refund.")
        if request.refund_payment_id is None:
            return None
        payment = session.get(Payment, request.refund_payment_id)
        assert payment is not None
        return refunded_payment(payment, request.credits_revoked)


@router.post(
    "/refunds",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.NOT_FOUND,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def refund(
    account_id: AccountIdPath,
    body: RefundIn,
    services: ServicesDep,
    idempotency: IdempotencyDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> RefundedPayment:
    """Refund a capture in part or in full, never beyond what it still holds (409
    ``conflict``); with ``revoke_credits``, take back the credits it bought in proportion
    (all that remain once refunded in full, never below zero). Needs ``Idempotency-Key``."""
    if idempotency.key is None:
        raise ApiError(ErrorCode.INVALID_REQUEST, "A refund needs an Idempotency-Key header.")
    key = idempotency.key
    await asyncio.to_thread(idempotency.claim, _scope(account_id), body)
    client = await services.temporal.client()  # unreachable: 503 before anything is recorded

    def record() -> tuple[OperatorRefundStart, str]:
        with transaction(services.sessions) as session:
            request = record_refund_request(
                session,
                account_id=account_id,
                key=key,
                payment_id=body.payment_id,
                amount_minor=body.amount_minor,
                revoke_credits=body.revoke_credits,
                reason=body.reason,
                operator=operator,
                at=datetime.now(UTC),
            )
            capture = session.get(Payment, request.payment_id)
            assert capture is not None
            start = OperatorRefundStart(
                account_id=account_id,
                request_id=request.id,
                payment_id=request.payment_id,
                amount_minor=request.amount_minor,
                currency=capture.currency,
                revoke_credits=request.revoke_credits,
                requested_at=request.created_at,
            )
            return start, request.status

    start, state = await asyncio.to_thread(record)
    if state != RefundRequestStatus.REQUESTED.value:
        done = await asyncio.to_thread(_refund_of, services, start.request_id)
        if done is not None:
            return done
    operation = WithStartWorkflowOperation(
        OperatorRefundWorkflow.run,
        start,
        id=operator_refund_workflow_id(account_id, start.request_id),
        static_summary=(
            f"{account_id}: operator refund of {start.amount_minor} (minor units, "
            f"{start.currency}) of {start.payment_id} by {operator}"
        ),
        task_queue=services.settings.sms_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    call = client.execute_update_with_start_workflow(
        OperatorRefundWorkflow.outcome, start_workflow_operation=operation
    )
    try:
        return await answer(services, call, REFUND_PENDING)
    except WorkflowGone:
        done = await asyncio.to_thread(_refund_of, services, start.request_id)
        if done is None:
            raise ApiError(ErrorCode.SERVICE_UNAVAILABLE, REFUND_PENDING) from None
        return done


def _replayed(services: Services, account_id: str, action: AuditAction, key: str) -> Any:
    """What the first request with this key answered, if it was carried out."""
    with read_only(services.sessions) as session:
        record = find_audit(session, account_id, action, key)
        return None if record is None else record.payload.get("result")


def _audit(
    services: Services,
    *,
    account_id: str,
    action: AuditAction,
    operator: str,
    reason: str,
    key: str,
    payload: dict[str, Any],
    reference: str | None,
) -> None:
    with transaction(services.sessions) as session:
        write_audit(
            session,
            account_id=account_id,
            action=action,
            operator=operator,
            reason=reason,
            payload=payload,
            reference=reference,
            key=key,
            at=datetime.now(UTC),
        )


async def _acted(
    services: Services,
    account_id: str,
    action: AuditAction,
    key: str,
    operator: str,
    reason: str,
    payload: dict[str, Any],
    result: BaseModel,
    reference: str | None,
) -> None:
    await asyncio.to_thread(
        lambda: _audit(
            services,
            account_id=account_id,
            action=action,
            operator=operator,
            reason=reason,
            key=key,
            payload={**payload, "result": result.model_dump(mode="json")},
            reference=reference,
        )
    )


class GoodwillOut(BaseModel):
    credits: int
    expires_at: datetime
    balance: int


@router.post(
    "/goodwill",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def goodwill(
    account_id: AccountIdPath,
    body: GoodwillIn,
    services: ServicesDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> GoodwillOut:
    """Goodwill credits until the next renewal (an ``adjust`` grant); once per ``request_id``."""
    action, key = AuditAction.GOODWILL, body.request_id
    first = await asyncio.to_thread(_replayed, services, account_id, action, key)
    if first is not None:
        return GoodwillOut.model_validate(first)
    granted = await give_goodwill(services, account_id, body.credits, body.reason, key)
    out = GoodwillOut.model_validate(granted.model_dump())
    await _acted(
        services,
        account_id,
        action,
        key,
        operator,
        body.reason,
        {"credits": body.credits, "request_id": key},
        out,
        reference=f"goodwill:{account_id}:{key}",
    )
    return out


class RetryOut(BaseModel):
    account_id: str
    status: AddonStatus
    retry_requested: bool


@router.post(
    "/retry-payment",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED, ErrorCode.ADDON_NOT_ACTIVE, ErrorCode.SERVICE_UNAVAILABLE
    ),
)
async def retry_payment(
    account_id: AccountIdPath,
    services: ServicesDep,
    idempotency: IdempotencyDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> RetryOut:
    """Retry a past-due add-on's declined charge now (409 ``addon_not_active`` when
    nothing is past due); the outcome shows in the payments and the add-on's status."""
    action, key = AuditAction.RETRY_PAYMENT, idempotency.key or uuid.uuid4().hex
    await asyncio.to_thread(idempotency.claim, _scope(account_id))
    first = await asyncio.to_thread(_replayed, services, account_id, action, key)
    if first is not None:
        return RetryOut.model_validate(first)
    await request_retry(services, account_id, operator)
    out = RetryOut(account_id=account_id, status=AddonStatus.PAST_DUE, retry_requested=True)
    await _acted(services, account_id, action, key, operator, "retry payment", {}, out, None)
    return out


class CancelOut(BaseModel):
    status: AddonStatus
    ends_at: datetime
    credits_expired: int = 0
    refunds: list[RefundedPayment] = []


@router.post(
    "/addon/cancel",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel(
    account_id: AccountIdPath,
    body: CancelIn,
    services: ServicesDep,
    idempotency: IdempotencyDep,
    operator: OperatorHeader = DEFAULT_OPERATOR,
) -> CancelOut:
    """``period_end``: the customer's cancel. ``now``: the add-on ends at once (credits
    expire, status cancelled), with ``prorated`` the unused days of the paid period refunded."""
    if body.when == "period_end" and body.refund != "none":
        raise ApiError(ErrorCode.INVALID_REQUEST, "Only an end now can refund the unused days.")
    await asyncio.to_thread(idempotency.claim, _scope(account_id), body)
    now = body.when == "now"
    action = AuditAction.END_NOW if now else AuditAction.CANCEL_AT_PERIOD_END
    key = idempotency.key or uuid.uuid4().hex
    first = await asyncio.to_thread(_replayed, services, account_id, action, key)
    if first is not None:
        return CancelOut.model_validate(first)
    ended = await cancel_addon(services, account_id, operator, now, body.refund == "prorated")
    out = CancelOut.model_validate(ended.model_dump())
    reference = ", ".join(r.payment_id for r in out.refunds) or f"add-on {out.status.value}"
    await _acted(
        services,
        account_id,
        action,
        key,
        operator,
        body.reason,
        body.model_dump(mode="json"),
        out,
        reference,
    )
    return out


@router.get("/audit", responses=error_responses(ErrorCode.UNAUTHENTICATED))
def audit(
    account_id: AccountIdPath,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditList:
    """The operator actions on the account, newest first."""
    with read_only(services.sessions) as session:
        rows: list[AuditRecord] = audit_of(session, account_id, limit)
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
                for r in rows
            ]
        )

"""Operator refunds (admin token, API.md "Operators"): recorded under the request's
``Idempotency-Key`` before the gateway is called (store/operator.py), within what the
capture still holds, then run by the ``SmsOperatorRefund`` workflow, whose answer the
route waits for through ``application.temporal_calls.answer``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import Field
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone, answer
from boundary.options import WORKFLOW_TASK_TIMEOUT
from contracts.operator import (
    DEFAULT_OPERATOR,
    OperatorRefundStart,
    RefundedPayment,
    RefundRequestStatus,
    operator_refund_workflow_id,
)
from domain.errors import ErrorCode
from domain.inputs import Id, InputModel
from starter.api.deps import AccountIdPath, AdminDep, ServicesDep
from starter.api.errors import error_responses
from starter.api.idempotency import IdempotencyDep
from starter.api.operator_audit import OperatorHeader, Reason, admin_scope
from store.db import read_only, transaction
from store.models import Payment
from store.operator import record_refund_request, refunded_payment
from store.operator_models import RefundRequest
from workflows.operator_refund import OperatorRefundWorkflow

router = APIRouter(
    prefix="/v1/admin/accounts/{account_id}/sms", tags=["operators"], dependencies=[AdminDep]
)

REFUND_PENDING = "The refund is still being processed; repeat the request with the same key."


class RefundIn(InputModel):
    payment_id: Id
    amount_minor: Annotated[int, Field(gt=0, le=100_000_000)]
    reason: Reason
    revoke_credits: bool = False


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
    await asyncio.to_thread(idempotency.claim, admin_scope(account_id), body)
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
        task_timeout=WORKFLOW_TASK_TIMEOUT,
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

"""Operator refunds (admin token, API.md "Operators"): recorded under the request's
``Idempotency-Key`` before the gateway is called (store/operator.py), within what the
capture still holds, then run by the ``SmsOperatorRefund`` workflow, whose answer is
waited for (application/clients/operator_refund.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from application.authorization import Action, Permit
from application.clients.operator_refund import REFUND_PENDING, OperatorRefundClient
from application.context import Services
from application.errors import ApiError
from application.operator_audit import Reason
from application.temporal_calls import WorkflowGone
from contracts.operator import OperatorRefundStart, RefundedPayment, RefundRequestStatus
from domain.errors import ErrorCode
from domain.inputs import Id, InputModel
from store.db import read_only, transaction
from store.models import Payment
from store.operator import record_refund_request, refund_start_of, refunded_payment
from store.operator_models import RefundRequest


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


def _record(
    services: Services, account_id: str, body: RefundIn, key: str, operator: str
) -> tuple[OperatorRefundStart, str]:
    """The refund request under ``key`` (the first one's, on a repeat) and its state."""
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
        start = refund_start_of(session, request)
        assert start is not None, "recorded only for a capture of the account"
        return start, request.status


async def refund(
    services: Services, permit: Permit, body: RefundIn, key: str, operator: str
) -> RefundedPayment:
    """Refund a capture in part or in full, never beyond what it still holds (409
    ``conflict``); with ``revoke_credits``, take back the credits it bought in proportion
    (all that remain once refunded in full, never below zero)."""
    permit.require(Action.REFUND)
    await services.temporal.client()  # unreachable: 503 before anything is recorded
    start, state = await asyncio.to_thread(
        _record, services, permit.account_id, body, key, operator
    )
    if state != RefundRequestStatus.REQUESTED.value:
        done = await asyncio.to_thread(_refund_of, services, start.request_id)
        if done is not None:
            return done
    try:
        return await OperatorRefundClient(services).outcome(start, operator)
    except WorkflowGone:
        done = await asyncio.to_thread(_refund_of, services, start.request_id)
        if done is None:
            raise ApiError(ErrorCode.SERVICE_UNAVAILABLE, REFUND_PENDING) from None
        return done

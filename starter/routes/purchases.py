"""Purchases of the add-on and credit packs: create (quote), read, confirm, cancel.

The purchase itself is a workflow; this layer authenticates, keeps the
Idempotency-Key promise, starts it with update-with-start and maps its
refusals to API.md's codes. Purchases that have ended are read from the DB.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import NoReturn

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.enums import PurchaseStatus
from domain.errors import ErrorCode
from domain.pricing import Quote
from domain.purchase import (
    TERMINAL_STATUSES,
    Decision,
    Failure,
    PaymentRef,
    PurchaseInput,
    PurchaseItem,
    PurchaseView,
    purchase_workflow_id,
)
from starter.deps import AccountCaller, Caller, IdPath, ServicesDep, SessionDep
from starter.errors import ApiError, error_responses
from starter.idempotency import IdempotencyDep
from starter.purchase_request import PurchaseCreate
from starter.services import Services
from store.models import Payment, Purchase
from workflows.purchase import PurchaseWorkflow

router = APIRouter(prefix="/v1/accounts/{account_id}/sms/purchases", tags=["purchases"])


def _view(session: Session, row: Purchase) -> PurchaseView:
    payment = session.get(Payment, row.payment_id) if row.payment_id else None
    return PurchaseView(
        purchase_id=row.purchase_id,
        status=PurchaseStatus(row.status),
        item=PurchaseItem.model_validate({"type": row.item_type, _id_field(row): row.item_id}),
        quote=Quote.model_validate(row.quote) if row.quote else None,
        payment=PaymentRef(
            payment_id=payment.payment_id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
        )
        if payment
        else None,
        failure=Failure(code=row.failure_code, message=row.failure_message or "")
        if row.failure_code
        else None,
        created_at=row.created_at,
        completed_at=row.completed_at,
    )


def _id_field(row: Purchase) -> str:
    return "tier" if row.item_type == "addon" else "pack"


def _stored(session: Session, caller: Caller, purchase_id: str) -> Purchase:
    row = session.get(Purchase, purchase_id)
    if row is None or row.account_id != caller.account_id:
        raise ApiError(ErrorCode.NOT_FOUND, f"Purchase {purchase_id} was not found.")
    return row


def _record_new(session: Session, caller: Caller, item: PurchaseItem, key: str | None) -> Purchase:
    """The purchase's row, created before its workflow so that an Idempotency-Key
    maps to one purchase; a concurrent request with the same key finds the winner's."""
    try:
        with session.begin():
            existing = _by_key(session, caller, key)
            if existing is not None:
                if (existing.item_type, existing.item_id) != (item.type.value, item.item_id):
                    raise ApiError(
                        ErrorCode.CONFLICT,
                        "This Idempotency-Key was already used for another purchase.",
                    )
                return existing
            now = datetime.now(UTC)
            row = Purchase(
                purchase_id=f"pur_{uuid.uuid4().hex[:20]}",
                account_id=caller.account_id,
                user_id=caller.user_id,
                item_type=item.type.value,
                item_id=item.item_id,
                status=PurchaseStatus.PROCESSING.value,
                idempotency_key=key,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
        return row
    except IntegrityError:
        with session.begin():
            winner = _by_key(session, caller, key)
        if winner is None:
            raise
        return winner


def _by_key(session: Session, caller: Caller, key: str | None) -> Purchase | None:
    if key is None:
        return None
    return session.scalars(
        select(Purchase).where(
            Purchase.account_id == caller.account_id, Purchase.idempotency_key == key
        )
    ).first()


def _error_code(code: str | None) -> ErrorCode | None:
    try:
        return ErrorCode(code) if code else None
    except ValueError:
        return None


def _refused(view: PurchaseView) -> NoReturn:
    """Raise the API error for a purchase that ended without success."""
    assert view.failure is not None
    code = _error_code(view.failure.code) or ErrorCode.CONFLICT
    raise ApiError(code, view.failure.message, purchase=view.model_dump(mode="json"))


def _raise_update_failure(error: WorkflowUpdateFailedError) -> NoReturn:
    """A refused confirm or cancel (validator or permission) as API.md's error."""
    cause = error.cause
    code = _error_code(cause.type) if isinstance(cause, ApplicationError) else None
    if code is None:
        raise error
    raise ApiError(code, str(cause.message if isinstance(cause, ApplicationError) else cause))


async def _within(
    services: Services, purchase_id: str, answer: Awaitable[PurchaseView]
) -> PurchaseView:
    """The workflow's answer, or 503 when it takes longer than the API waits (no
    worker polling, say); the purchase goes on and can be read later."""
    try:
        return await asyncio.wait_for(answer, services.settings.sms_api_wait_seconds)
    # The SDK turns wait_for's cancellation of an update call into its own error.
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise ApiError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "The purchase is still being processed; read it again shortly.",
            purchase_id=purchase_id,
        ) from exc


async def _temporal(services: Services) -> Client:
    return await services.temporal.client()


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.PLAN_NOT_ELIGIBLE,
        ErrorCode.ADDON_ALREADY_ACTIVE,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def create_purchase(
    account_id: str,
    body: PurchaseCreate,
    caller: AccountCaller,
    services: ServicesDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> PurchaseView:
    """Check permission and eligibility, price the item, and answer with the quote."""
    idempotency.claim(caller.account_id, body)
    row = _record_new(session, caller, body.purchase_item, idempotency.key)
    if PurchaseStatus(row.status) in TERMINAL_STATUSES:
        view = _view(session, row)
    else:
        view = await _review(services, caller, row)
    if view.status is PurchaseStatus.REJECTED:
        _refused(view)
    return view


async def _review(services: Services, caller: Caller, row: Purchase) -> PurchaseView:
    client = await _temporal(services)
    start = WithStartWorkflowOperation(
        PurchaseWorkflow.run,
        PurchaseInput(
            purchase_id=row.purchase_id,
            account_id=row.account_id,
            user_id=row.user_id,
            item=PurchaseItem.model_validate({"type": row.item_type, _id_field(row): row.item_id}),
            quote_ttl=services.settings.quote_ttl,
        ),
        id=purchase_workflow_id(caller.account_id, row.purchase_id),
        task_queue=services.settings.sms_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # An ended purchase is never started again; its outcome is in the DB.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    try:
        return await _within(
            services,
            row.purchase_id,
            client.execute_update_with_start_workflow(
                PurchaseWorkflow.review, start_workflow_operation=start
            ),
        )
    except (RPCError, WorkflowAlreadyStartedError):
        with services.sessions() as session:
            return _view(session, _stored(session, caller, row.purchase_id))


@router.get("/{purchase_id}", responses=error_responses(ErrorCode.NOT_FOUND))
def get_purchase(
    account_id: str, purchase_id: IdPath, caller: AccountCaller, session: SessionDep
) -> PurchaseView:
    return _view(session, _stored(session, caller, purchase_id))


async def _decide(
    services: Services, caller: Caller, purchase_id: str, confirm: bool
) -> PurchaseView:
    with services.sessions() as session:
        row = _stored(session, caller, purchase_id)
        ended = PurchaseStatus(row.status) in TERMINAL_STATUSES
    if not ended:
        client = await _temporal(services)
        handle = client.get_workflow_handle_for(
            PurchaseWorkflow.run, purchase_workflow_id(caller.account_id, purchase_id)
        )
        update = PurchaseWorkflow.confirm if confirm else PurchaseWorkflow.cancel
        try:
            return await _within(
                services,
                purchase_id,
                handle.execute_update(update, Decision(user_id=caller.user_id)),
            )
        except WorkflowUpdateFailedError as error:
            _raise_update_failure(error)
        except RPCError:
            pass  # the workflow ended meanwhile: its outcome is in the DB
    with services.sessions() as session:
        final = PurchaseStatus(_stored(session, caller, purchase_id).status)
    if confirm and final is PurchaseStatus.EXPIRED:
        raise ApiError(ErrorCode.QUOTE_EXPIRED, "The quote has expired.")
    raise ApiError(
        ErrorCode.NOT_AWAITING_CONFIRMATION, "The purchase is not awaiting confirmation."
    )


@router.post(
    "/{purchase_id}/confirm",
    responses=error_responses(
        ErrorCode.PAYMENT_DECLINED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.QUOTE_EXPIRED,
        ErrorCode.NOT_AWAITING_CONFIRMATION,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def confirm_purchase(
    account_id: str, purchase_id: IdPath, caller: AccountCaller, services: ServicesDep
) -> PurchaseView:
    """Capture the payment and grant the credits; answers when both are done."""
    view = await _decide(services, caller, purchase_id, confirm=True)
    if view.status in {PurchaseStatus.DECLINED, PurchaseStatus.EXPIRED, PurchaseStatus.REJECTED}:
        _refused(view)
    return view


@router.post(
    "/{purchase_id}/cancel",
    responses=error_responses(
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.NOT_AWAITING_CONFIRMATION,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel_purchase(
    account_id: str, purchase_id: IdPath, caller: AccountCaller, services: ServicesDep
) -> PurchaseView:
    return await _decide(services, caller, purchase_id, confirm=False)

"""Purchases of the add-on and credit packs: create (quote), read, list, confirm, cancel.

The purchase itself is a workflow; this layer authenticates, keeps the
Idempotency-Key promise, starts it with update-with-start and answers with what
it says (``application.temporal_calls``). Purchases that have ended are read from the DB.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import NoReturn

from fastapi import APIRouter, status
from pydantic import BaseModel
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone, answer
from boundary.options import WAITED_ON_TASK_TIMEOUT
from contracts.purchase import Decision, PurchaseInput, PurchaseView, purchase_workflow_id
from domain.enums import PurchaseStatus
from domain.errors import ErrorCode
from domain.purchase import TERMINAL_STATUSES, PurchaseItem
from starter.api.deps import (
    AccountCaller,
    BillingCaller,
    Caller,
    IdPath,
    ServicesDep,
    require_billing_permission,
)
from starter.api.errors import error_responses
from starter.api.idempotency import IdempotencyDep
from starter.api.purchase_request import PurchaseCreate
from store.db import read_only, transaction
from store.models import Purchase
from store.purchases import (
    find_purchase,
    item_of,
    recent_purchases,
    record_new_purchase,
    view_of,
)
from workflows.purchase import PurchaseWorkflow
from workflows.search_attributes import ACCOUNT_ID

router = APIRouter(prefix="/v1/accounts/{account_id}/sms/purchases", tags=["purchases"])

STILL_PROCESSING = "The purchase is still being processed; read it again shortly."
# What a confirm answers, by how the purchase ended (a refusal keeps its own code).
CONFIRM_REFUSED = {PurchaseStatus.DECLINED, PurchaseStatus.EXPIRED, PurchaseStatus.REJECTED}


class PurchaseList(BaseModel):
    purchases: list[PurchaseView]


def _refused(view: PurchaseView) -> NoReturn:
    """Raise the API error for a purchase that ended without success."""
    assert view.failure is not None
    try:
        code = ErrorCode(view.failure.code)
    except ValueError:
        code = ErrorCode.CONFLICT
    raise ApiError(code, view.failure.message, purchase=view.model_dump(mode="json"))


def _read(services: Services, caller: Caller, purchase_id: str) -> PurchaseView:
    with read_only(services.sessions) as session:
        row = find_purchase(session, caller.account_id, purchase_id)
        if row is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"Purchase {purchase_id} was not found.")
        return view_of(session, row)


def _forget_unstarted(services: Services, purchase_id: str) -> None:
    """A purchase whose workflow could not be started leaves no record behind; the
    same Idempotency-Key then starts afresh. Money never moves without the record."""
    with transaction(services.sessions) as session:
        row = session.get(Purchase, purchase_id, with_for_update=True)
        if row is not None and row.status == PurchaseStatus.PROCESSING.value and not row.quote:
            session.delete(row)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
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
    idempotency: IdempotencyDep,
) -> PurchaseView:
    """Check permission and eligibility, price the item, and answer with the quote."""
    if caller.may_buy:  # a refused request neither replays nor uses up a key
        await asyncio.to_thread(idempotency.claim, caller.account_id, body)
    view = await review_purchase(services, caller, body.purchase_item, idempotency.key)
    if view.status is PurchaseStatus.REJECTED:
        _refused(view)
    return view


async def review_purchase(
    services: Services, caller: Caller, item: PurchaseItem, key: str | None
) -> PurchaseView:
    """The purchase's record, then its workflow's answer: the quote or the refusal.
    Permission comes first (API.md Conventions): a caller who may not buy gets a
    purchase of her own, which the workflow rejects, never the one another user's
    key made."""
    key = key if caller.may_buy else None
    client = await services.temporal.client()  # unreachable: 503 before anything is recorded
    row = await asyncio.to_thread(
        record_new_purchase,
        services.sessions,
        account_id=caller.account_id,
        user_id=caller.user_id,
        item=item,
        key=key,
        at=datetime.now(UTC),
    )
    if PurchaseStatus(row.status) in TERMINAL_STATUSES:
        return await asyncio.to_thread(_read, services, caller, row.purchase_id)
    start = WithStartWorkflowOperation(
        PurchaseWorkflow.run,
        PurchaseInput(
            purchase_id=row.purchase_id,
            account_id=row.account_id,
            user_id=row.user_id,
            item=item_of(row),
            quote_ttl=services.settings.quote_ttl,
            created_at=row.created_at,
        ),
        id=purchase_workflow_id(caller.account_id, row.purchase_id),
        static_summary=f"{caller.account_id}: buy {item.type.value} {item.item_id}",
        task_queue=services.settings.sms_task_queue,
        task_timeout=WAITED_ON_TASK_TIMEOUT,
        # Set at start, the workflow needs no command (and no visibility write) for it.
        search_attributes=TypedSearchAttributes([SearchAttributePair(ACCOUNT_ID, row.account_id)]),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # An ended purchase is never started again; its outcome is in the DB.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    update = client.execute_update_with_start_workflow(
        PurchaseWorkflow.review, start_workflow_operation=start
    )
    try:
        return await answer(services, update, STILL_PROCESSING, purchase_id=row.purchase_id)
    except WorkflowGone:
        return await asyncio.to_thread(_read, services, caller, row.purchase_id)
    except ApiError as error:
        if isinstance(error.__cause__, RPCError):  # not started (or it fails without charging)
            await asyncio.to_thread(_forget_unstarted, services, row.purchase_id)
        raise


@router.get("", responses=error_responses(ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_FOUND))
def list_purchases(
    account_id: str,
    caller: AccountCaller,
    services: ServicesDep,
    status: PurchaseStatus | None = None,
    limit: int = 50,
) -> PurchaseList:
    """The account's purchases, newest first; ``status`` filters (e.g. the pending quotes)."""
    limit = max(1, min(limit, 200))
    with read_only(services.sessions) as session:
        rows = recent_purchases(session, caller.account_id, status, limit)
        return PurchaseList(purchases=[view_of(session, row) for row in rows])


@router.get(
    "/{purchase_id}", responses=error_responses(ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_FOUND)
)
def get_purchase(
    account_id: str, purchase_id: IdPath, caller: AccountCaller, services: ServicesDep
) -> PurchaseView:
    return _read(services, caller, purchase_id)


async def decide_purchase(
    services: Services, caller: Caller, purchase_id: str, confirm: bool, repeat: bool = False
) -> PurchaseView:
    """Send ``confirm`` or ``cancel`` to the purchase and answer when it has ended.
    ``repeat``: the same request came before with the same Idempotency-Key (its answer
    was lost), so an ended purchase answers its outcome, not 409. Permission comes
    first (API.md Conventions): nothing about the purchase is read for a caller who
    may not decide it (the JSON routes check it before the key, the page here)."""
    require_billing_permission(caller)
    view = await asyncio.to_thread(_read, services, caller, purchase_id)
    if repeat and view.status in TERMINAL_STATUSES:
        return view
    if view.status not in TERMINAL_STATUSES:
        client = await services.temporal.client()
        handle = client.get_workflow_handle(
            purchase_workflow_id(caller.account_id, purchase_id), result_type=PurchaseView
        )
        update = PurchaseWorkflow.confirm if confirm else PurchaseWorkflow.cancel
        call = handle.execute_update(update, Decision(user_id=caller.user_id))
        try:
            return await answer(services, call, STILL_PROCESSING, purchase_id=purchase_id)
        except WorkflowGone:  # it ended meanwhile: its outcome is in the DB
            view = await asyncio.to_thread(_read, services, caller, purchase_id)
    if confirm and view.status is PurchaseStatus.EXPIRED:
        raise ApiError(ErrorCode.QUOTE_EXPIRED, "The quote has expired.")
    raise ApiError(
        ErrorCode.NOT_AWAITING_CONFIRMATION, "The purchase is not awaiting confirmation."
    )


@router.post(
    "/{purchase_id}/confirm",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.PAYMENT_DECLINED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.QUOTE_EXPIRED,
        ErrorCode.NOT_AWAITING_CONFIRMATION,
        ErrorCode.ADDON_ALREADY_ACTIVE,
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.PLAN_NOT_ELIGIBLE,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def confirm_purchase(
    account_id: str,
    purchase_id: IdPath,
    caller: BillingCaller,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> PurchaseView:
    """Claim the item, capture the payment and grant the credits; answers when done.
    Retried with the same Idempotency-Key after a lost answer, it answers the outcome."""
    repeat = await asyncio.to_thread(idempotency.claim, caller.account_id)
    view = await decide_purchase(services, caller, purchase_id, confirm=True, repeat=repeat)
    if view.status in CONFIRM_REFUSED:
        _refused(view)
    return view


@router.post(
    "/{purchase_id}/cancel",
    responses=error_responses(
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.NOT_AWAITING_CONFIRMATION,
        ErrorCode.SERVICE_UNAVAILABLE,
    ),
)
async def cancel_purchase(
    account_id: str,
    purchase_id: IdPath,
    caller: BillingCaller,
    services: ServicesDep,
    idempotency: IdempotencyDep,
) -> PurchaseView:
    repeat = await asyncio.to_thread(idempotency.claim, caller.account_id)
    return await decide_purchase(services, caller, purchase_id, confirm=False, repeat=repeat)

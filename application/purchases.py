"""Purchases of the add-on (a first one, or another tier: a tier change) and of credit
packs: review (the quote), read, list, confirm, cancel.

The purchase itself is a workflow (``application.clients.purchase``); its record is
written here before the workflow starts, so that the same Idempotency-Key finds it.
Purchases that have ended are read from the database.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pydantic import BaseModel
from temporalio.service import RPCError

from application.authorization import Action, Permit
from application.clients.purchase import PurchaseClient
from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone
from contracts.purchase import PurchaseInput, PurchaseView
from domain.enums import PurchaseStatus
from domain.errors import ErrorCode
from domain.purchase import TERMINAL_STATUSES, PurchaseItem
from store.db import read_only, transaction
from store.models import Purchase
from store.purchases import find_purchase, item_of, recent_purchases, record_new_purchase, view_of

MAX_LISTED = 200
# How a confirm ended when it answers as a refusal (a refusal keeps its own code).
CONFIRM_REFUSED = {
    PurchaseStatus.DECLINED,
    PurchaseStatus.EXPIRED,
    PurchaseStatus.REJECTED,
    PurchaseStatus.FAILED,
}


class PurchaseList(BaseModel):
    purchases: list[PurchaseView]


def refusal_of(view: PurchaseView) -> ApiError:
    """The API's answer to a purchase that ended without success: its failure's code,
    with the purchase itself."""
    assert view.failure is not None
    try:
        code = ErrorCode(view.failure.code)
    except ValueError:
        code = ErrorCode.CONFLICT
    return ApiError(code, view.failure.message, purchase=view.model_dump(mode="json"))


def _read(services: Services, account_id: str, purchase_id: str) -> PurchaseView:
    with read_only(services.sessions) as session:
        row = find_purchase(session, account_id, purchase_id)
        if row is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"Purchase {purchase_id} was not found.")
        return view_of(session, row)


def read(services: Services, permit: Permit, purchase_id: str) -> PurchaseView:
    """One of the account's purchases; another account's is as good as missing (404)."""
    permit.require(Action.READ_BILLING)
    return _read(services, permit.account_id, purchase_id)


def recent(
    services: Services, permit: Permit, status: PurchaseStatus | None, limit: int
) -> PurchaseList:
    """The account's purchases, newest first; ``status`` filters (e.g. the pending quotes)."""
    permit.require(Action.READ_BILLING)
    with read_only(services.sessions) as session:
        rows = recent_purchases(session, permit.account_id, status, max(1, min(limit, MAX_LISTED)))
        return PurchaseList(purchases=[view_of(session, row) for row in rows])


def _forget_unstarted(services: Services, purchase_id: str) -> None:
    """A purchase whose workflow could not be started leaves no record behind; the
    same Idempotency-Key then starts afresh. Money never moves without the record."""
    with transaction(services.sessions) as session:
        row = session.get(Purchase, purchase_id, with_for_update=True)
        if row is not None and row.status == PurchaseStatus.PROCESSING.value and not row.quote:
            session.delete(row)


async def review(
    services: Services, permit: Permit, item: PurchaseItem, key: str | None
) -> PurchaseView:
    """The purchase's record, then its workflow's answer: the quote, or the refusal
    (the purchase then ends as rejected). ``key``: the same key answers the same purchase."""
    permit.require(Action.BUY)
    caller = permit.caller
    await services.temporal.client()  # unreachable: 503 before anything is recorded
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
        return await asyncio.to_thread(_read, services, caller.account_id, row.purchase_id)
    start = PurchaseInput(
        purchase_id=row.purchase_id,
        account_id=row.account_id,
        user_id=row.user_id,
        item=item_of(row),
        quote_ttl=services.settings.quote_ttl,
        created_at=row.created_at,
    )
    client = PurchaseClient(services, caller.account_id, row.purchase_id)
    try:
        return await client.review(start)
    except WorkflowGone:
        return await asyncio.to_thread(_read, services, caller.account_id, row.purchase_id)
    except ApiError as error:
        if isinstance(error.__cause__, RPCError):  # not started (or it fails without charging)
            await asyncio.to_thread(_forget_unstarted, services, row.purchase_id)
        raise


async def decide(
    services: Services, permit: Permit, purchase_id: str, repeat: bool = False
) -> PurchaseView:
    """Confirm or cancel (as the permit says) and answer when the purchase has ended.
    ``repeat``: the same request came before with the same Idempotency-Key (its answer
    was lost), so an ended purchase answers its outcome, not 409."""
    permit.require(Action.CONFIRM_PURCHASE, Action.CANCEL_PURCHASE)
    confirm = permit.action is Action.CONFIRM_PURCHASE
    account_id = permit.account_id
    view = await asyncio.to_thread(_read, services, account_id, purchase_id)
    if repeat and view.status in TERMINAL_STATUSES:
        return view
    if view.status not in TERMINAL_STATUSES:
        client = PurchaseClient(services, account_id, purchase_id)
        try:
            return await client.decide(permit.caller.user_id, confirm=confirm)
        except WorkflowGone:  # it ended meanwhile: its outcome is in the DB
            view = await asyncio.to_thread(_read, services, account_id, purchase_id)
        except ApiError as error:
            if not confirm or error.code is not ErrorCode.SERVICE_UNAVAILABLE:
                raise
            return await asyncio.to_thread(_processing, services, account_id, purchase_id, error)
    if confirm and view.status is PurchaseStatus.EXPIRED:
        raise ApiError(ErrorCode.QUOTE_EXPIRED, "The quote has expired.")
    raise ApiError(
        ErrorCode.NOT_AWAITING_CONFIRMATION, "The purchase is not awaiting confirmation."
    )


def _processing(
    services: Services, account_id: str, purchase_id: str, unanswered: ApiError
) -> PurchaseView:
    """A confirm that outlasts the API's wait, for a purchase that holds its claim and is
    being paid for (its payment's outcome may wait for the provider): the purchase as it
    stands, ``processing``. Anything else keeps the 503 it got."""
    view = _read(services, account_id, purchase_id)
    if view.status is not PurchaseStatus.PROCESSING:
        raise unanswered
    return view


async def create(
    services: Services, permit: Permit, item: PurchaseItem, key: str | None
) -> PurchaseView:
    """Review, answered as the JSON API does: a refused purchase is its refusal."""
    view = await review(services, permit, item, key)
    if view.status is PurchaseStatus.REJECTED:
        raise refusal_of(view)
    return view


async def confirm(
    services: Services, permit: Permit, purchase_id: str, repeat: bool = False
) -> PurchaseView:
    """Confirm, answered as the JSON API does: a declined, expired or refused purchase
    is its refusal; one still being paid for when the API's wait ends, ``processing``."""
    view = await decide(services, permit, purchase_id, repeat)
    if view.status in CONFIRM_REFUSED:
        raise refusal_of(view)
    return view

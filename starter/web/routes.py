"""The billing page (HTML): sign-in, the page, and its forms.

Every form posts here and answers with a redirect back to the page (so a reload
repeats nothing). Each action is authorized by the same table as the JSON API
(application/authorization.py), then calls the application function that answers
the same JSON route: a user who may not take it is told why on the page, and nothing
changes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError

from application import addon, purchases
from application.authorization import Action, Permit, authorize
from application.errors import ApiError
from domain.enums import ItemType, PurchaseStatus
from domain.errors import ErrorCode
from domain.purchase import PurchaseItem
from starter.api.deps import ServicesDep
from starter.web import notices, sessions
from starter.web.rendering import render
from starter.web.views import load

router = APIRouter(prefix="/billing", include_in_schema=False)

ASSETS = Path(__file__).with_name("assets")
ASSET_TYPES = {
    "billing.css": "text/css",
    "billing.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}
PURCHASE_ID = r"^pur_[a-z0-9]{1,40}$"
# The same printable-ASCII rule as the JSON API's Idempotency-Key header.
REQUEST_KEY = re.compile(r"[\x20-\x7e]{1,255}")
FormField = Annotated[str, Form()]


def _to(path: str, **query: str) -> RedirectResponse:
    target = f"/billing{path}"
    if query:
        target += "?" + urlencode(query)
    return RedirectResponse(target, status_code=303)


def _signed_in(request: Request, services: ServicesDep) -> sessions.PageSession | None:
    with services.sessions() as session:
        return sessions.current(session, request)


def _form_expired(request: Request) -> Response:
    return render(request, "problem.html", {"notice": notices.NOTICES[notices.FORM_EXPIRED]}, 403)


def _permit(
    request: Request, services: ServicesDep, csrf_token: str, action: Action
) -> Permit | Response:
    """The signed-in user's permit for ``action``, or the page's answer instead."""
    page = _signed_in(request, services)
    if page is None:
        return _to("/sign-in")
    if not sessions.same_token(csrf_token, page.csrf_token):
        return _form_expired(request)
    try:
        return authorize(page.caller, action, page.caller.account_id)
    except ApiError as refusal:  # back to the page, which says why; nothing is done
        return _outcome(None, refusal.code)


@router.get("/sign-in")
def sign_in_page(request: Request, services: ServicesDep, notice: str = "") -> Response:
    if _signed_in(request, services) is not None:
        return _to("")
    return _sign_in_form(request, notices.notice(notice), 200)


def _sign_in_form(request: Request, notice: notices.Notice | None, status: int) -> Response:
    csrf = secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", {"csrf_token": csrf, "notice": notice}, status)
    sessions.set_cookie(response, request, sessions.SIGN_IN_COOKIE, csrf, max_age=None)
    return response


@router.post("/sign-in")
def sign_in(
    request: Request, services: ServicesDep, api_token: FormField = "", csrf_token: FormField = ""
) -> Response:
    if not sessions.same_token(csrf_token, request.cookies.get(sessions.SIGN_IN_COOKIE, "")):
        return _form_expired(request)
    lifetime = timedelta(hours=services.settings.sms_billing_session_hours)
    with services.sessions() as session:
        session_id, known = sessions.open_session(session, api_token, lifetime)
    if not known:
        return _sign_in_form(request, notices.NOTICES[notices.SIGN_IN_FAILED], 401)
    response = _to("")
    max_age = int(lifetime.total_seconds())
    sessions.set_cookie(response, request, sessions.SESSION_COOKIE, session_id, max_age)
    sessions.clear_cookie(response, request, sessions.SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(request: Request, services: ServicesDep, csrf_token: FormField = "") -> Response:
    page = _signed_in(request, services)
    if page is not None and not sessions.same_token(csrf_token, page.csrf_token):
        return _form_expired(request)
    with services.sessions() as session:
        sessions.close_session(session, request)
    response = _to("/sign-in", notice=notices.SIGNED_OUT)
    sessions.clear_cookie(response, request, sessions.SESSION_COOKIE)
    return response


@router.get("")
def billing_page(
    request: Request, services: ServicesDep, purchase: str = "", notice: str = ""
) -> Response:
    page = _signed_in(request, services)
    if page is None:
        return _to("/sign-in")
    view = load(services, page.caller, purchase if re.match(PURCHASE_ID, purchase) else None)
    shown = notices.notice(notice)
    if shown is None and view.purchase is not None and view.purchase.failure is not None:
        shown = notices.notice(view.purchase.failure.code)
    context: dict[str, Any] = {"view": view, "notice": shown, "csrf_token": page.csrf_token}
    return render(request, "billing.html", context)


@router.post("/purchases")
async def add_to_plan(
    request: Request,
    services: ServicesDep,
    csrf_token: FormField = "",
    request_key: FormField = "",
    tier: FormField = "",
    pack: FormField = "",
) -> Response:
    """Add to plan or Change tier (a tier), or Continue (a credit pack): the Review
    purchase step. A tier change is authorized as a purchase (the table's rule for both)."""
    permit = _permit(request, services, csrf_token, Action.BUY)
    if isinstance(permit, Response):
        return permit
    try:
        item = (
            PurchaseItem(type=ItemType.ADDON, tier=tier)
            if tier
            else PurchaseItem(type=ItemType.CREDIT_PACK, pack=pack)
        )
    except ValidationError:
        return _to("", notice=ErrorCode.INVALID_REQUEST)
    key = request_key if REQUEST_KEY.fullmatch(request_key) else None
    try:
        view = await purchases.review(services, permit, item, key)
    except ApiError as refusal:
        return _outcome(refusal.details.get("purchase_id"), refusal.code)
    if view.failure is not None:  # refused: the purchase ended as rejected
        return _outcome(view.purchase_id, view.failure.code)
    return _to("", purchase=view.purchase_id)


def _outcome(purchase_id: str | None, code: str) -> RedirectResponse:
    query = {"notice": str(code)}
    if purchase_id:
        query["purchase"] = purchase_id
    return _to("", **query)


@router.post("/purchases/{purchase_id}/confirm")
async def confirm_purchase(
    request: Request, purchase_id: str, services: ServicesDep, csrf_token: FormField = ""
) -> Response:
    return await _decide(request, purchase_id, services, csrf_token, Action.CONFIRM_PURCHASE)


@router.post("/purchases/{purchase_id}/cancel")
async def cancel_purchase(
    request: Request, purchase_id: str, services: ServicesDep, csrf_token: FormField = ""
) -> Response:
    return await _decide(request, purchase_id, services, csrf_token, Action.CANCEL_PURCHASE)


async def _decide(
    request: Request, purchase_id: str, services: ServicesDep, csrf_token: str, action: Action
) -> Response:
    permit = _permit(request, services, csrf_token, action)
    if isinstance(permit, Response):
        return permit
    if not re.match(PURCHASE_ID, purchase_id):
        return _to("", notice=ErrorCode.INVALID_REQUEST)
    try:
        view = await purchases.decide(services, permit, purchase_id)
    except ApiError as refusal:
        # Unknown, or another account's: nothing about it is told, not even its id.
        shown = None if refusal.code is ErrorCode.NOT_FOUND else purchase_id
        return _outcome(shown, refusal.code)
    if view.failure is not None:  # declined, expired or refused: the purchase says why
        return _outcome(purchase_id, view.failure.code)
    if view.status is PurchaseStatus.PROCESSING:  # still being paid for: the page says so
        return _to("", purchase=purchase_id)
    confirmed = action is Action.CONFIRM_PURCHASE
    return _outcome(
        purchase_id, notices.PURCHASE_COMPLETED if confirmed else notices.PURCHASE_CANCELLED
    )


@router.post("/addon/cancel")
async def cancel_addon(
    request: Request, services: ServicesDep, csrf_token: FormField = ""
) -> Response:
    permit = _permit(request, services, csrf_token, Action.CANCEL_ADDON)
    cancel = partial(addon.cancel, services)
    return await _change_addon(permit, cancel, notices.ADDON_CANCELLING)


@router.post("/addon/resume")
async def resume_addon(
    request: Request, services: ServicesDep, csrf_token: FormField = ""
) -> Response:
    permit = _permit(request, services, csrf_token, Action.RESUME_ADDON)
    resume = partial(addon.resume, services)
    return await _change_addon(permit, resume, notices.ADDON_RESUMED)


@router.post("/lines/{line_id}/end")
async def end_line(
    request: Request, line_id: str, services: ServicesDep, csrf_token: FormField = ""
) -> Response:
    """End at renewal: a credit pack ends at the next renewal (no refund)."""

    async def end(permit: Permit) -> object:
        if not re.match(PURCHASE_ID, line_id):  # a line's id is the purchase that added it
            raise ApiError(ErrorCode.NOT_FOUND, f"Line {line_id} was not found.")
        return await addon.end_line(services, permit, line_id)

    permit = _permit(request, services, csrf_token, Action.END_LINE)
    return await _change_addon(permit, end, notices.LINE_ENDING)


async def _change_addon(
    permit: Permit | Response, change: Callable[[Permit], Awaitable[object]], done: str
) -> Response:
    """Take an add-on action the permit allows; back to the page saying how it went."""
    if isinstance(permit, Response):
        return permit
    try:
        await change(permit)
    except ApiError as refusal:
        return _outcome(None, refusal.code)
    return _outcome(None, done)


def unavailable(request: Request) -> Response:
    """The page's answer when the service cannot act (``starter.api.faults``)."""
    return render(request, "problem.html", {"notice": notices.NOTICES[notices.UNAVAILABLE]}, 503)


@router.get("/assets/{name}")
def asset(name: str) -> Response:
    """The page's own stylesheet and script (nothing is loaded from elsewhere)."""
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        return Response(status_code=404)
    return FileResponse(ASSETS / name, media_type=media_type)


# Browsers ask every site for its icon at the root; the page's own answers.
icon_router = APIRouter(include_in_schema=False)


@icon_router.get("/favicon.ico")
def favicon() -> Response:
    return FileResponse(ASSETS / "favicon.svg", media_type="image/svg+xml")

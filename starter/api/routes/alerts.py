"""Alerts, events and auto top-up (API.md; billing permission): the account's settings
and its events feed."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from application.errors import ApiError
from domain.enums import AddonStatus, BillingCycle, Currency
from domain.errors import ErrorCode
from domain.inputs import Id, InputModel
from outbound.webhooks import address_refusal
from starter.api.deps import BillingCaller, ReadSession, ServicesDep, SessionDep
from starter.api.errors import error_responses
from store.event_models import AlertSettings
from store.events import latest_events
from store.ledger import lock_account
from store.models import AddonSubscription
from store.top_up_settlement import turn_off_top_up

router = APIRouter(prefix="/v1/accounts/{account_id}/sms", tags=["alerts"])

MAX_CREDITS = 10_000_000
# A cap above a few a month is no cap; 31 allows one a day.
MAX_TOP_UPS_PER_MONTH = 31
MAX_URL_CHARS = 2048
Credits = Annotated[int, Field(ge=1, le=MAX_CREDITS)]


class AutoTopUpIn(InputModel):
    pack: Id
    below: Credits
    max_per_month: Annotated[int, Field(ge=1, le=MAX_TOP_UPS_PER_MONTH)]


class SettingsIn(InputModel):
    """Every field nullable: null (or left out) turns it off."""

    low_balance_threshold: Credits | None = None
    auto_top_up: AutoTopUpIn | None = None
    webhook_url: (
        Annotated[
            str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS, pattern=r"^[^\x00\s]+$")
        ]
        | None
    ) = None


class AutoTopUpOut(BaseModel):
    pack: str
    below: int
    max_per_month: int
    credits: int  # what one top-up grants
    price_minor: int  # what one top-up charges (the pack's monthly price)
    currency: str


class SettingsOut(BaseModel):
    low_balance_threshold: int | None
    auto_top_up: AutoTopUpOut | None
    webhook_url: str | None


class SettingsSaved(SettingsOut):
    # Only in the answer that issued it (a URL set where there was none): shown once.
    webhook_secret: str | None = None


class EventOut(BaseModel):
    event_id: str
    at: datetime
    type: str
    data: dict[str, Any]


class Events(BaseModel):
    events: list[EventOut]


def _out(row: AlertSettings | None) -> SettingsOut:
    if row is None:
        return SettingsOut(low_balance_threshold=None, auto_top_up=None, webhook_url=None)
    top_up = None
    if row.top_up_pack is not None:
        assert row.top_up_below is not None and row.top_up_max_per_month is not None
        assert row.top_up_credits is not None and row.top_up_price_minor is not None
        assert row.top_up_currency is not None
        top_up = AutoTopUpOut(
            pack=row.top_up_pack,
            below=row.top_up_below,
            max_per_month=row.top_up_max_per_month,
            credits=row.top_up_credits,
            price_minor=row.top_up_price_minor,
            currency=row.top_up_currency,
        )
    return SettingsOut(
        low_balance_threshold=row.low_balance_threshold,
        auto_top_up=top_up,
        webhook_url=row.webhook_url,
    )


def _apply_top_up(
    session: Session, row: AlertSettings, wanted: AutoTopUpIn | None, services: Any
) -> None:
    if wanted is None:
        turn_off_top_up(row)
        return
    account = lock_account(session, row.account_id)
    pack = services.catalogue.credit_pack(wanted.pack, Currency(account.currency))
    if pack is None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"There is no credit pack called {wanted.pack!r}.",
            details=[{"field": "auto_top_up.pack", "message": "Unknown credit pack"}],
        )
    addon = session.get(AddonSubscription, row.account_id)
    if addon is None or addon.status != AddonStatus.ACTIVE.value:
        raise ApiError(ErrorCode.ADDON_NOT_ACTIVE, "Auto top-up needs an active SMS add-on.")
    row.top_up_pack, row.top_up_credits = pack.id, pack.credits_per_month
    row.top_up_price_minor = pack.price_minor(BillingCycle.MONTHLY)
    row.top_up_currency = account.currency
    row.top_up_below, row.top_up_max_per_month = wanted.below, wanted.max_per_month


def _apply_webhook(row: AlertSettings, url: str | None, allow_private: bool) -> str | None:
    """Set the URL; returns a new secret when one is issued (a URL where there was none)."""
    if url is None:
        row.webhook_url = row.webhook_secret = None
        return None
    refused = address_refusal(url, allow_private)
    if refused is not None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            refused,
            details=[{"field": "webhook_url", "message": refused}],
        )
    issued = None
    if row.webhook_url is None or row.webhook_secret is None:
        issued = row.webhook_secret = f"whsec_{secrets.token_urlsafe(32)}"
    row.webhook_url = url
    return issued


SETTINGS_ERRORS = error_responses(
    ErrorCode.BILLING_PERMISSION_REQUIRED, ErrorCode.NOT_FOUND, ErrorCode.INVALID_REQUEST
)


@router.put(
    "/settings",
    responses=error_responses(
        ErrorCode.BILLING_PERMISSION_REQUIRED,
        ErrorCode.NOT_FOUND,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.ADDON_NOT_ACTIVE,
    ),
)
def put_settings(
    account_id: str,
    body: SettingsIn,
    caller: BillingCaller,
    services: ServicesDep,
    session: SessionDep,
) -> SettingsSaved:
    """Replace the low-balance threshold, auto top-up and webhook; null turns each off.
    The webhook secret is answered once, when a URL is set where there was none."""
    now = datetime.now(UTC)
    with session.begin():
        lock_account(session, caller.account_id)  # debits read these under the same lock
        row = session.get(AlertSettings, caller.account_id)
        if row is None:
            row = AlertSettings(account_id=caller.account_id, updated_at=now)
            session.add(row)
        row.low_balance_threshold = body.low_balance_threshold
        _apply_top_up(session, row, body.auto_top_up, services)
        issued = _apply_webhook(row, body.webhook_url, services.settings.sms_webhook_allow_private)
        row.updated_at = now
        saved = _out(row)
    return SettingsSaved(**saved.model_dump(), webhook_secret=issued)


@router.get("/settings", responses=SETTINGS_ERRORS)
def get_settings(account_id: str, caller: BillingCaller, session: ReadSession) -> SettingsOut:
    """The settings as saved (the webhook secret is never shown again)."""
    return _out(session.get(AlertSettings, caller.account_id))


@router.get("/events", responses=SETTINGS_ERRORS)
def list_events(
    account_id: str,
    caller: BillingCaller,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Events:
    """The account's events, newest first."""
    rows = latest_events(session, caller.account_id, limit)
    return Events(
        events=[EventOut(event_id=r.event_id, at=r.at, type=r.type, data=r.data) for r in rows]
    )

"""Alerts, events and auto top-up (API.md; billing permission): the account's settings
and its events feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from application.authorization import Action, Permit
from application.context import Services
from application.errors import ApiError
from domain.auto_top_up import top_up_refusal, top_up_terms
from domain.catalogue import Catalogue
from domain.enums import AddonStatus, Currency
from domain.errors import ErrorCode
from domain.events import DeliveryState, delivery_state
from domain.inputs import Id, InputModel
from outbound.address_safety import AddressRefused, check_webhook_url
from outbound.webhook_signing import new_secret
from store.db import read_only, transaction
from store.event_models import AccountEvent, AlertSettings
from store.events import latest_events
from store.ledger import lock_account
from store.models import AddonSubscription
from store.top_up_settlement import turn_off_top_up

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


class DeliveryOut(BaseModel):
    state: DeliveryState = Field(
        description="none: no webhook; pending: being delivered (retried with backoff); "
        "delivered: the webhook answered 2xx; failed: refused for good, or no 2xx within "
        "the retry bound (an operator can redeliver it)."
    )
    attempts: int = Field(description="POSTs made in the current delivery round.")
    last_error: str | None = Field(default=None, description="Why the delivery failed.")


class EventOut(BaseModel):
    event_id: str
    at: datetime
    type: str
    data: dict[str, Any]
    delivery: DeliveryOut


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
    session: Session,
    row: AlertSettings,
    wanted: AutoTopUpIn | None,
    catalogue: Catalogue,
    currency: Currency,
) -> None:
    """Auto top-up as wanted, priced in the account's currency."""
    if wanted is None:
        turn_off_top_up(row)
        return
    pack = catalogue.credit_pack(wanted.pack, currency)
    if pack is None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"There is no credit pack called {wanted.pack!r}.",
            details=[{"field": "auto_top_up.pack", "message": "Unknown credit pack"}],
        )
    addon = session.get(AddonSubscription, row.account_id)
    refused = top_up_refusal(AddonStatus.INACTIVE if addon is None else AddonStatus(addon.status))
    if refused is not None:
        raise ApiError(*refused)
    terms = top_up_terms(pack, currency)
    row.top_up_pack, row.top_up_credits = terms.pack, terms.credits
    row.top_up_price_minor, row.top_up_currency = terms.price_minor, terms.currency
    row.top_up_below, row.top_up_max_per_month = wanted.below, wanted.max_per_month


def _apply_webhook(row: AlertSettings, url: str | None, allow_private: bool) -> str | None:
    """Set the URL; returns a new secret when one is issued (a URL where there was none)."""
    if url is None:
        row.webhook_url = row.webhook_secret = None
        return None
    try:
        check_webhook_url(url, allow_private)
    except AddressRefused as refused:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"webhook_url is refused: {refused}",
            details=[{"field": "webhook_url", "message": str(refused)}],
        ) from refused
    issued = None
    if row.webhook_url is None or row.webhook_secret is None:
        issued = row.webhook_secret = new_secret()
    row.webhook_url = url
    return issued


def save(services: Services, permit: Permit, wanted: SettingsIn) -> SettingsSaved:
    """Replace the low-balance threshold, auto top-up and webhook; null turns each off.
    The webhook secret is answered once, when a URL is set where there was none."""
    permit.require(Action.SETTINGS)
    now = datetime.now(UTC)
    with transaction(services.sessions) as session:
        # Debits read these under the same lock.
        account = lock_account(session, permit.account_id)
        row = session.get(AlertSettings, permit.account_id)
        if row is None:
            row = AlertSettings(account_id=permit.account_id, updated_at=now)
            session.add(row)
        row.low_balance_threshold = wanted.low_balance_threshold
        currency = Currency(account.currency)
        _apply_top_up(session, row, wanted.auto_top_up, services.catalogue, currency)
        allow_private = services.settings.sms_webhook_allow_private
        issued = _apply_webhook(row, wanted.webhook_url, allow_private)
        row.updated_at = now
        saved = _out(row)
    return SettingsSaved(**saved.model_dump(), webhook_secret=issued)


def current(services: Services, permit: Permit) -> SettingsOut:
    """The settings as saved (the webhook secret is never shown again)."""
    permit.require(Action.SETTINGS)
    with read_only(services.sessions) as session:
        return _out(session.get(AlertSettings, permit.account_id))


def events(services: Services, permit: Permit, limit: int) -> Events:
    """The account's events, newest first, each with where its webhook delivery stands."""
    permit.require(Action.SETTINGS)
    with read_only(services.sessions) as session:
        rows = latest_events(session, permit.account_id, limit)
        return Events(events=[event_out(r) for r in rows])


def event_out(row: AccountEvent) -> EventOut:
    delivery = DeliveryOut(
        state=delivery_state(row.delivery_status),
        attempts=row.delivery_attempts,
        last_error=row.delivery_error,
    )
    return EventOut(
        event_id=row.event_id, at=row.at, type=row.type, data=row.data, delivery=delivery
    )

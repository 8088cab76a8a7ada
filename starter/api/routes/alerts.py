"""Alerts, events and auto top-up (API.md; billing permission): the account's settings
and its events feed (application/settings.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from application import alerts
from application.alerts import Events, SettingsIn, SettingsOut, SettingsSaved
from application.authorization import Action, Permit
from domain.errors import ErrorCode
from starter.api.deps import ServicesDep, allowed
from starter.api.errors import error_responses

router = APIRouter(prefix="/v1/accounts/{account_id}/sms", tags=["alerts"])

SettingsPermit = Annotated[Permit, allowed(Action.SETTINGS)]
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
    account_id: str, permit: SettingsPermit, body: SettingsIn, services: ServicesDep
) -> SettingsSaved:
    """Replace the low-balance threshold, auto top-up and webhook; null turns each off.
    The webhook secret is answered once, when a URL is set where there was none."""
    return alerts.save(services, permit, body)


@router.get("/settings", responses=SETTINGS_ERRORS)
def get_settings(account_id: str, permit: SettingsPermit, services: ServicesDep) -> SettingsOut:
    """The settings as saved (the webhook secret is never shown again)."""
    return alerts.current(services, permit)


@router.get("/events", responses=SETTINGS_ERRORS)
def list_events(
    account_id: str,
    permit: SettingsPermit,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Events:
    """The account's events, newest first."""
    return alerts.events(services, permit, limit)

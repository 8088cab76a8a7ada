"""Sending: debit the credits of a send, and estimate one (API.md "Sending").

A debit is a plain database transaction on the hot path (DESIGN.md §5): the
ledger locks the account row, so concurrent sends queue instead of losing updates.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks
from pydantic import BaseModel, Field, StringConstraints

from application.errors import ApiError
from domain.catalogue import Catalogue, Country
from domain.errors import ErrorCode
from domain.inputs import InputModel
from domain.segments import Encoding, count_segments, credits_for
from observability import metrics
from starter.api.deps import AccountCaller, AccountIdPath, ServicesDep
from starter.api.errors import error_responses
from starter.api.follow_ups import start_after_response
from starter.api.idempotency import IdempotencyDep
from starter.api.openapi import CATALOGUE_ENUM
from store.debits import Message, Outcome, send_on
from store.idempotency import bounded_key

router = APIRouter(tags=["sending"])

MAX_RECIPIENTS = 100_000
# Carriers reassemble at most ten segments; 1,600 characters is the usual ceiling.
MAX_TEXT_CHARS = 1_600


class SendIn(InputModel):
    # The OpenAPI document lists the catalogue's countries (starter/api/openapi.py).
    country: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Z]{2}$"),
        Field(json_schema_extra={CATALOGUE_ENUM: "countries"}),
    ]
    recipients: Annotated[int, Field(ge=1, le=MAX_RECIPIENTS)]
    text: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS, pattern=r"^[^\x00]+$")
    ]


class UsageOut(BaseModel):
    credits_debited: int
    balance: int


class EstimateOut(BaseModel):
    encoding: Encoding
    segments: int
    credits_per_recipient: int
    credits: int


def _country(catalogue: Catalogue, code: str) -> Country:
    country = catalogue.country(code)
    if country is None:
        raise ApiError(
            ErrorCode.INVALID_REQUEST,
            f"Messages to country {code} are not offered.",
            details=[{"field": "country", "message": "Unknown country"}],
        )
    return country


def _estimate(catalogue: Catalogue, body: SendIn) -> tuple[Country, EstimateOut]:
    country = _country(catalogue, body.country)
    counted = count_segments(body.text)
    per_recipient = credits_for(country.credits_per_message, counted.segments, 1)
    return country, EstimateOut(
        encoding=counted.encoding,
        segments=counted.segments,
        credits_per_recipient=per_recipient,
        credits=credits_for(country.credits_per_message, counted.segments, body.recipients),
    )


@router.post("/v1/sms/estimate")
def estimate(body: SendIn, services: ServicesDep) -> EstimateOut:
    """What a send would cost; debits nothing."""
    return _estimate(services.catalogue, body)[1]


@router.post(
    "/v1/accounts/{account_id}/sms/usage",
    responses=error_responses(
        ErrorCode.ADDON_NOT_ACTIVE,
        ErrorCode.INSUFFICIENT_CREDITS,
        ErrorCode.REGISTRATION_REQUIRED,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.NOT_FOUND,
    ),
)
async def record_usage(
    account_id: AccountIdPath,
    body: SendIn,
    caller: AccountCaller,
    services: ServicesDep,
    idempotency: IdempotencyDep,
    background: BackgroundTasks,
) -> UsageOut:
    """Debit a send's credits from the soonest-expiring grants, in one transaction."""
    country, cost = _estimate(services.catalogue, body)
    # A client key: the same key for another request is 409, checked in the debit's
    # own transaction.
    request = idempotency.first_request(account_id, body)
    message = Message(
        key=usage_key(account_id, idempotency.key or str(uuid.uuid4())),
        credits=cost.credits,
        needs_registration=country.registration is not None,
        reference=send_reference(country, cost.segments, body.recipients),
    )
    # Async route: the whole transaction in one group commit.
    at = datetime.now(UTC)
    sent = await services.writer.run(account_id, lambda db: send_on(db, message, at, request))
    spent, balance, follow_ups = sent.spent, sent.balance, sent.follow_ups
    start_after_response(follow_ups, background, services)  # a low-balance event, a top-up
    if spent.outcome is Outcome.DEBITED:
        metrics.debited_committed(spent.credits)
    if spent.outcome is Outcome.ADDON_NOT_ACTIVE:
        raise ApiError(
            ErrorCode.ADDON_NOT_ACTIVE,
            "Sending needs an active SMS add-on; buy it (or resume it) first.",
        )
    if spent.outcome is Outcome.INSUFFICIENT_CREDITS:
        raise ApiError(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"This needs {cost.credits} credits; the account's unexpired credits are fewer.",
        )
    if spent.outcome is Outcome.REGISTRATION_REQUIRED:
        raise ApiError(
            ErrorCode.REGISTRATION_REQUIRED,
            f"Sending to {country.name} needs an approved {country.registration} registration.",
        )
    if spent.outcome is Outcome.KEY_REUSED:
        raise ApiError(
            ErrorCode.CONFLICT,
            "This Idempotency-Key was already used for a different send.",
        )
    return UsageOut(credits_debited=spent.credits, balance=balance)


def send_reference(country: Country, segments: int, recipients: int) -> str:
    return f"SMS to {country.code}: {segments} segment(s) × {recipients} recipient(s)"


def usage_key(account_id: str, client_key: str) -> str:
    """The ledger key of a send: the same client key from the same account debits once,
    whether it came alone or in a batch."""
    return bounded_key("usage", account_id, client_key)

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
from sqlalchemy.orm import Session

from domain.catalogue import Catalogue, Country
from domain.enums import RegistrationStatus
from domain.errors import ErrorCode
from domain.inputs import InputModel
from domain.segments import Encoding, count_segments, credits_for
from starter.deps import AccountCaller, AccountIdPath, ServicesDep, SessionDep
from starter.errors import ApiError, error_responses
from starter.follow_ups import after_commit
from starter.idempotency import IdempotencyDep
from starter.openapi import CATALOGUE_ENUM
from store.idempotency import bounded_key
from store.ledger import debit_credits
from store.models import A2pRegistration

router = APIRouter(tags=["sending"])

MAX_RECIPIENTS = 100_000
# Carriers reassemble at most ten segments; 1,600 characters is the usual ceiling.
MAX_TEXT_CHARS = 1_600


class SendIn(InputModel):
    # The OpenAPI document lists the catalogue's countries (starter/openapi.py).
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


def _require_registration(session: Session, account_id: str, country: Country) -> None:
    if country.registration is None:
        return
    registration = session.get(A2pRegistration, account_id)
    if registration is None or registration.status != RegistrationStatus.APPROVED:
        raise ApiError(
            ErrorCode.REGISTRATION_REQUIRED,
            f"Sending to {country.name} needs an approved {country.registration} registration.",
        )


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
        ErrorCode.INSUFFICIENT_CREDITS,
        ErrorCode.REGISTRATION_REQUIRED,
        ErrorCode.CONFLICT,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.NOT_FOUND,
    ),
)
def record_usage(
    account_id: AccountIdPath,
    body: SendIn,
    caller: AccountCaller,
    services: ServicesDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
    background: BackgroundTasks,
) -> UsageOut:
    """Debit a send's credits from the soonest-expiring grants, in one transaction."""
    country, cost = _estimate(services.catalogue, body)
    idempotency.claim(account_id, body)
    key = bounded_key("usage", account_id, idempotency.key or str(uuid.uuid4()))
    reference = (
        f"SMS to {country.code}: {cost.segments} segment(s) × {body.recipients} recipient(s)"
    )
    with session.begin():
        _require_registration(session, account_id, country)
        entry = debit_credits(
            session,
            account_id=account_id,
            credits=cost.credits,
            at=datetime.now(UTC),
            reference=reference,
            key=key,
        )
    after_commit(session, background, services)  # a low-balance event, an auto top-up
    if -entry.credits != cost.credits:
        raise ApiError(
            ErrorCode.CONFLICT,
            "This Idempotency-Key was already used for a different send.",
        )
    return UsageOut(credits_debited=-entry.credits, balance=entry.balance_after)

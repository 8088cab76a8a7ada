"""Sending: debit the credits of a send, and estimate one (API.md "Sending").

A debit is a plain database transaction on the hot path (DESIGN.md §5): the
ledger locks the account row, so concurrent sends queue instead of losing updates.
What a committed debit asks for next (a low-balance event, an auto top-up) is
answered with it, for the caller to start once the answer is sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from application.authorization import Action, Permit
from application.context import Services
from application.errors import ApiError
from domain import usage
from domain.catalogue import Catalogue, Country
from domain.errors import ErrorCode
from domain.inputs import CATALOGUE_ENUM, InputModel
from domain.segments import Encoding, count_segments, credits_for
from observability import metrics
from store.debits import Message, Outcome, send_on
from store.events import FollowUp
from store.idempotency import FirstRequest, bounded_key

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


@dataclass(frozen=True)
class Sent:
    """A debit's answer, and what its transaction asked to start after it."""

    answer: UsageOut
    follow_ups: list[FollowUp]


def send_reference(country: Country, segments: int, recipients: int) -> str:
    """The debit's ledger reference; it names the country (domain.usage reads it back)."""
    return usage.send_reference(country.code, segments, recipients)


def usage_key(account_id: str, client_key: str) -> str:
    """The ledger key of a send: the same client key from the same account debits once,
    whether it came alone or in a batch."""
    return bounded_key("usage", account_id, client_key)


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


def estimate(catalogue: Catalogue, body: SendIn) -> EstimateOut:
    """What a send would cost (public); debits nothing."""
    return _estimate(catalogue, body)[1]


def _refusal(outcome: Outcome, country: Country, credits: int) -> ApiError | None:
    if outcome is Outcome.ADDON_NOT_ACTIVE:
        return ApiError(
            ErrorCode.ADDON_NOT_ACTIVE,
            "Sending needs an active SMS add-on; buy it (or resume it) first.",
        )
    if outcome is Outcome.INSUFFICIENT_CREDITS:
        return ApiError(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"This needs {credits} credits; the account's unexpired credits are fewer.",
        )
    if outcome is Outcome.REGISTRATION_REQUIRED:
        return ApiError(
            ErrorCode.REGISTRATION_REQUIRED,
            f"Sending to {country.name} needs an approved {country.registration} registration.",
        )
    if outcome is Outcome.KEY_REUSED:
        return ApiError(
            ErrorCode.CONFLICT, "This Idempotency-Key was already used for a different send."
        )
    return None


async def record_usage(
    services: Services,
    permit: Permit,
    body: SendIn,
    key: str | None,
    request: FirstRequest | None,
) -> Sent:
    """Debit a send's credits from the soonest-expiring grants, in one transaction.
    ``request``: the client's Idempotency-Key use, checked in the debit's own
    transaction (the same key for another request is 409)."""
    permit.require(Action.SEND)
    account_id = permit.account_id
    country, cost = _estimate(services.catalogue, body)
    message = Message(
        key=usage_key(account_id, key or str(uuid.uuid4())),
        credits=cost.credits,
        needs_registration=country.registration is not None,
        reference=send_reference(country, cost.segments, body.recipients),
    )
    at = datetime.now(UTC)
    # The whole transaction in one group commit.
    sent = await services.writer.run(account_id, lambda db: send_on(db, message, at, request))
    spent = sent.spent
    if spent.outcome is Outcome.DEBITED:
        metrics.debited_committed(spent.credits)
    refused = _refusal(spent.outcome, country, cost.credits)
    if refused is not None:  # nothing was debited, so nothing follows
        raise refused
    answer = UsageOut(credits_debited=spent.credits, balance=sent.balance)
    return Sent(answer, sent.follow_ups)

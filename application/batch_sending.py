"""Batch sending (API.md ``POST …/sms/usage/batch``): up to 1,000 messages debited in
order in one transaction, each exactly once by its ``idempotency_key``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from application.authorization import Action, Permit
from application.context import Services
from application.sending import MAX_RECIPIENTS, MAX_TEXT_CHARS, send_reference, usage_key
from domain.catalogue import Catalogue
from domain.errors import ErrorCode
from domain.inputs import InputModel
from domain.segments import count_segments, credits_for
from observability import metrics
from store.debits import Message, Outcome, spend_batch_on
from store.events import FollowUp

MAX_BATCH = 1_000


class BatchMessageIn(InputModel):
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
    recipients: Annotated[int, Field(ge=1, le=MAX_RECIPIENTS)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]
    idempotency_key: Annotated[
        str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x20-\x7e]+$")
    ]


class BatchIn(InputModel):
    messages: Annotated[list[BatchMessageIn], Field(min_length=1, max_length=MAX_BATCH)]


class MessageResult(BaseModel):
    credits_debited: int
    code: ErrorCode | None


class BatchOut(BaseModel):
    results: list[MessageResult]
    balance: int


# A message's key names an earlier message with another cost: like a bad field, it is
# this message's fault, so it answers invalid_request and the rest of the batch goes on.
_CODES = {
    Outcome.DEBITED: None,
    Outcome.REPLAYED: None,
    Outcome.INSUFFICIENT_CREDITS: ErrorCode.INSUFFICIENT_CREDITS,
    Outcome.REGISTRATION_REQUIRED: ErrorCode.REGISTRATION_REQUIRED,
    Outcome.ADDON_NOT_ACTIVE: ErrorCode.ADDON_NOT_ACTIVE,
    Outcome.KEY_REUSED: ErrorCode.INVALID_REQUEST,
    Outcome.INVALID: ErrorCode.INVALID_REQUEST,
}


def _priced(catalogue: Catalogue, account_id: str, message: BatchMessageIn) -> Message:
    """What the message costs; an unknown country makes it invalid (credits None)."""
    key = usage_key(account_id, message.idempotency_key)
    country = catalogue.country(message.country)
    if country is None:
        return Message(key, None, False, "")
    segments = count_segments(message.text).segments
    return Message(
        key=key,
        credits=credits_for(country.credits_per_message, segments, message.recipients),
        needs_registration=country.registration is not None,
        reference=send_reference(country, segments, message.recipients),
    )


@dataclass(frozen=True)
class SentBatch:
    """A batch's answer, and what its transaction asked to start after it."""

    answer: BatchOut
    follow_ups: list[FollowUp]


async def record_batch(services: Services, permit: Permit, body: BatchIn) -> SentBatch:
    """Debit each message in the order sent; once credits run out the rest answer
    ``insufficient_credits``; a message whose key was spent before answers its first
    result and is not debited again."""
    permit.require(Action.SEND)
    account_id = permit.account_id
    messages = [_priced(services.catalogue, account_id, m) for m in body.messages]
    at = datetime.now(UTC)
    done = await services.writer.run(
        account_id, lambda db: spend_batch_on(db, account_id, messages, at)
    )
    metrics.debited_committed(sum(r.credits for r in done.results if r.outcome is Outcome.DEBITED))
    answer = BatchOut(
        results=[
            MessageResult(credits_debited=r.credits, code=_CODES[r.outcome]) for r in done.results
        ],
        balance=done.balance,
    )
    return SentBatch(answer, done.follow_ups)

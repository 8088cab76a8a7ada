"""The webhook the service sends, described in its OpenAPI document (``webhooks``):
the message, the Standard Webhooks headers a receiver verifies, and what its answer
makes the service do. Documentation only: nothing here is served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from domain.events import EventType
from outbound.webhook_signing import WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP


class WebhookEvent(BaseModel):
    """One event of the account, as POSTed (compact JSON, keys sorted)."""

    event_id: str = Field(description="Also the webhook-id header: dedupe by it.")
    account_id: str
    at: datetime
    type: EventType
    data: dict[str, Any]


def header(name: str, description: str) -> dict[str, Any]:
    """An OpenAPI header parameter (the signed webhooks read theirs from the request)."""
    return {
        "name": name,
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


SIGNATURE_HEADERS = [
    header(WEBHOOK_ID, "The message's id (for events, the event_id): dedupe by it."),
    header(
        WEBHOOK_TIMESTAMP,
        "When this attempt was sent, in Unix seconds; refuse one more than 5 minutes away.",
    ),
    header(
        WEBHOOK_SIGNATURE,
        'v1, and the base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}" under '
        "the secret's key (the base64 after whsec_); verify with the standardwebhooks package.",
    ),
]

outbound = APIRouter()


@outbound.post(
    "sms-event",
    openapi_extra={"parameters": SIGNATURE_HEADERS},
    responses={
        200: {"description": "Any 2xx: delivered."},
        410: {
            "description": "Any 4xx but 408 and 429: refused for good; the delivery is "
            "failed at once (an operator can redeliver it)."
        },
        503: {
            "description": "408, 429, any 5xx or 3xx (redirects are not followed), or no "
            "answer within 10 s: tried again with backoff (5 s, doubling, at most an "
            "hour) for up to SMS_WEBHOOK_RETRY_DAYS (3), then failed."
        },
    },
)
def sms_event(event: WebhookEvent) -> None:
    """An account event, POSTed to the account's ``webhook_url`` and signed per the
    Standard Webhooks specification with the secret answered when the URL was set."""

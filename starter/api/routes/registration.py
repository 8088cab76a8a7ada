"""A2P 10DLC registration: submit or correct it, read its status, and the carrier
webhook (application/registration.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import Field, StringConstraints, ValidationError

from application import registration
from application.authorization import Action, Permit
from application.errors import ApiError
from application.registration import RegistrationOut
from contracts.registration import CarrierDecision, DecisionSource, RegistrationStep
from domain.errors import ErrorCode
from domain.inputs import Choice, Id, InputModel
from domain.registration import RegistrationDetails
from outbound.webhook_signing import WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, verified
from starter.api.deps import AccountIdPath, ServicesDep, allowed
from starter.api.errors import ErrorBody, error_responses
from starter.api.webhook_docs import header

router = APIRouter(tags=["registration"])
webhooks = APIRouter(tags=["webhooks"])

REGISTRATION_PATH = "/v1/accounts/{account_id}/sms/registrations/a2p_10dlc"


class CarrierWebhook(InputModel):
    """A carrier's decision on one step, signed with the shared webhook secret."""

    account_id: Id
    step: Choice[RegistrationStep]
    outcome: Literal["approved", "failed"]
    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None
    submission: Annotated[int, Field(ge=1)] | None = None


@router.post(
    REGISTRATION_PATH,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        ErrorCode.BILLING_PERMISSION_REQUIRED, ErrorCode.CONFLICT, ErrorCode.SERVICE_UNAVAILABLE
    ),
)
async def submit_registration(
    account_id: AccountIdPath,
    permit: Annotated[Permit, allowed(Action.REGISTER)],
    details: RegistrationDetails,
    services: ServicesDep,
) -> RegistrationOut:
    """Submit brand and campaign details (or corrected ones after a failure); the
    carrier's review then runs in the background."""
    return await registration.submit(services, permit, details)


@router.get(REGISTRATION_PATH)
def get_registration(
    account_id: AccountIdPath,
    permit: Annotated[Permit, allowed(Action.READ_REGISTRATION)],
    services: ServicesDep,
) -> RegistrationOut:
    return registration.registration(services, permit)


# The Standard Webhooks headers, read from the request by ``verified`` (listed for the
# OpenAPI document).
SIGNED_HEADERS = [
    header(WEBHOOK_ID, "The message's unique id."),
    header(WEBHOOK_TIMESTAMP, "When it was sent, in Unix seconds: within 5 minutes of now."),
    header(
        WEBHOOK_SIGNATURE,
        'v1, and the base64 HMAC-SHA256 of "id.timestamp.body" under SMS_WEBHOOK_SECRET\'s key.',
    ),
]


@webhooks.post(
    "/v1/webhooks/a2p_10dlc",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        401: {
            "model": ErrorBody,
            "description": "unauthenticated: a missing or wrong signature, or a timestamp "
            "more than 5 minutes away; nothing changes.",
        },
        **error_responses(ErrorCode.NOT_FOUND, ErrorCode.SERVICE_UNAVAILABLE),
    },
    openapi_extra={"parameters": SIGNED_HEADERS},
)
async def carrier_webhook(request: Request, services: ServicesDep) -> dict[str, bool]:
    """A carrier decision, signed per the Standard Webhooks specification with
    ``SMS_WEBHOOK_SECRET``: ``webhook-id``, ``webhook-timestamp`` (within 5 minutes of
    now: a captured request cannot be replayed later) and ``webhook-signature``."""
    raw = await request.body()
    secret = services.settings.sms_webhook_secret.get_secret_value()
    if not verified(secret, raw, request.headers):
        raise ApiError(
            ErrorCode.UNAUTHENTICATED,
            "The webhook signature is missing or wrong, or its timestamp is more than "
            "5 minutes away.",
        )
    try:
        event = CarrierWebhook.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    decision = CarrierDecision(
        step=event.step,
        approved=event.outcome == "approved",
        reason=event.reason,
        submission=event.submission,
        source=DecisionSource.WEBHOOK,
    )
    await registration.carrier_decided(services, event.account_id, decision)
    return {"accepted": True}

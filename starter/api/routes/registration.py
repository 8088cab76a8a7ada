"""A2P 10DLC registration: submit or correct it, read its status, and the carrier
webhook (application/registration.py)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request, status
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
from starter.api.deps import AccountIdPath, ServicesDep, allowed
from starter.api.errors import ErrorBody, error_responses

router = APIRouter(tags=["registration"])
webhooks = APIRouter(tags=["webhooks"])

REGISTRATION_PATH = "/v1/accounts/{account_id}/sms/registrations/a2p_10dlc"
SIGNATURE_HEADER = "X-Signature-SHA256"


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


def _signature_valid(secret: str, body: bytes, signature: str | None) -> bool:
    if not secret or signature is None:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature.removeprefix("sha256=").encode(), expected.encode())


@webhooks.post(
    "/v1/webhooks/a2p_10dlc",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        401: {"model": ErrorBody, "description": "Missing or wrong signature; nothing changes."},
        **error_responses(ErrorCode.NOT_FOUND, ErrorCode.SERVICE_UNAVAILABLE),
    },
)
async def carrier_webhook(
    request: Request,
    services: ServicesDep,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> dict[str, bool]:
    """A carrier decision. ``X-Signature-SHA256`` is the hex HMAC-SHA256 of the raw
    body under the shared webhook secret (optionally prefixed ``sha256=``)."""
    raw = await request.body()
    secret = services.settings.sms_webhook_secret.get_secret_value()
    if not _signature_valid(secret, raw, signature):
        raise ApiError(ErrorCode.UNAUTHENTICATED, "The webhook signature is missing or wrong.")
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

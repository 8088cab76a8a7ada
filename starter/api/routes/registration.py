"""A2P 10DLC registration: submit or correct it, read its status, and the carrier webhook.

The registration is a workflow (``a2p-10dlc:{account_id}``, workflows/registration.py);
the ``a2p_registrations`` row is what its activities last recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, StringConstraints, ValidationError
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone, answer, unavailable
from boundary.options import WORKFLOW_TASK_TIMEOUT
from config.settings import Settings
from contracts.registration import (
    CarrierDecision,
    DecisionSource,
    RegistrationStart,
    RegistrationState,
    RegistrationStep,
    workflow_id,
)
from domain.enums import RegistrationStatus
from domain.errors import ErrorCode
from domain.inputs import Choice, Id, InputModel
from domain.registration import IN_REVIEW, RegistrationDetails
from starter.api.deps import AccountCaller, AccountIdPath, BillingCaller, ServicesDep
from starter.api.errors import ErrorBody, error_responses
from store.models import A2pRegistration
from workflows.registration import A2pRegistrationWorkflow

router = APIRouter(tags=["registration"])
webhooks = APIRouter(tags=["webhooks"])

REGISTRATION_PATH = "/v1/accounts/{account_id}/sms/registrations/a2p_10dlc"
SIGNATURE_HEADER = "X-Signature-SHA256"


class RegistrationOut(BaseModel):
    status: RegistrationStatus
    reason: str | None
    submission: int = Field(description="How many times details were submitted; 0 for none.")
    repeats: bool = Field(default=False, exclude=True)


class CarrierWebhook(InputModel):
    """A carrier's decision on one step, signed with the shared webhook secret."""

    account_id: Id
    step: Choice[RegistrationStep]
    outcome: Literal["approved", "failed"]
    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None
    submission: Annotated[int, Field(ge=1)] | None = None


def _read(
    services: Services, account_id: str, details: RegistrationDetails | None = None
) -> RegistrationOut:
    """The registration as stored; ``repeats`` tells whether ``details`` are what its
    current submission already holds (a retried POST)."""
    with services.sessions() as session:
        row = session.get(A2pRegistration, account_id)
        if row is None:
            return RegistrationOut(status=RegistrationStatus.NONE, reason=None, submission=0)
        out = RegistrationOut(
            status=RegistrationStatus(row.status), reason=row.reason, submission=row.submission
        )
        if details is not None:
            out.repeats = (row.brand, row.campaign) == (
                details.brand.model_dump(mode="json"),
                details.campaign.model_dump(mode="json"),
            )
        return out


def _out(state: RegistrationState) -> RegistrationOut:
    return RegistrationOut(status=state.status, reason=state.reason, submission=state.submission)


def _start(
    settings: Settings, account_id: str, details: RegistrationDetails, submission: int
) -> RegistrationStart:
    sandbox = settings.sms_carrier == "sandbox"
    return RegistrationStart(
        account_id=account_id,
        details=details,
        submission=submission,
        reminder_after=timedelta(hours=settings.sms_registration_reminder_hours),
        decision_timeout=timedelta(days=settings.sms_registration_timeout_days),
        sandbox_carrier_delay=(
            timedelta(seconds=settings.sms_sandbox_carrier_delay_seconds) if sandbox else None
        ),
    )


async def _submit(
    client: Client, services: Services, account_id: str, details: RegistrationDetails
) -> RegistrationOut:
    """Start a run for a new submission, or hand corrected details to the run that
    waits for them (a failed or timed-out registration)."""
    current = await asyncio.to_thread(_read, services, account_id, details)
    if current.status is RegistrationStatus.APPROVED or current.status in IN_REVIEW:
        if current.repeats:  # a double click or a retried request: same answer, no new run
            return current
        raise ApiError(
            ErrorCode.CONFLICT, f"The registration is {current.status.value}; nothing to submit."
        )
    settings = services.settings
    try:
        handle: WorkflowHandle[
            A2pRegistrationWorkflow, RegistrationState
        ] = await client.start_workflow(
            A2pRegistrationWorkflow.run,
            _start(settings, account_id, details, current.submission + 1),
            id=workflow_id(account_id),
            static_summary=(
                f"{account_id}: A2P 10DLC registration of {details.brand.legal_name}, "
                f"submission {current.submission + 1}"
            ),
            task_queue=settings.sms_task_queue,
            task_timeout=WORKFLOW_TASK_TIMEOUT,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        running = client.get_workflow_handle(workflow_id(account_id), result_type=RegistrationState)
        resubmitted = running.execute_update(A2pRegistrationWorkflow.resubmit, details)
        return _out(await _answer(services, resubmitted))
    except RPCError as exc:
        raise unavailable("Temporal did not take the registration; try again soon.") from exc
    return _out(await _answer(services, handle.execute_update(A2pRegistrationWorkflow.submitted)))


async def _answer(services: Services, call: Awaitable[RegistrationState]) -> RegistrationState:
    try:
        return await answer(services, call, "The registration is still being recorded.")
    except WorkflowGone as gone:
        raise ApiError(
            ErrorCode.CONFLICT, "The registration's run has just ended; submit it again."
        ) from gone


@router.post(
    REGISTRATION_PATH,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        ErrorCode.BILLING_PERMISSION_REQUIRED, ErrorCode.CONFLICT, ErrorCode.SERVICE_UNAVAILABLE
    ),
)
async def submit_registration(
    account_id: AccountIdPath,
    details: RegistrationDetails,
    caller: BillingCaller,
    services: ServicesDep,
) -> RegistrationOut:
    """Submit brand and campaign details (or corrected ones after a failure); the
    carrier's review then runs in the background."""
    client = await services.temporal.client()
    return await _submit(client, services, account_id, details)


@router.get(REGISTRATION_PATH)
async def get_registration(
    account_id: AccountIdPath, caller: AccountCaller, services: ServicesDep
) -> RegistrationOut:
    return await asyncio.to_thread(_read, services, account_id)


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
    client = await services.temporal.client()
    handle = client.get_workflow_handle(
        workflow_id(event.account_id), result_type=RegistrationState
    )
    try:
        await handle.signal(A2pRegistrationWorkflow.decide, decision)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise unavailable("Temporal did not take the decision; send it again.") from exc
        raise ApiError(
            ErrorCode.NOT_FOUND, f"No registration of {event.account_id} is in review."
        ) from exc
    return {"accepted": True}

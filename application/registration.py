"""A2P 10DLC registration: submit or correct it, read its status, and hand a carrier's
decision to it.

The registration is a workflow (``a2p-10dlc:{account_id}``, workflows/registration.py);
the ``a2p_registrations`` row is what its activities last recorded.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel, Field

from application.authorization import Action, Permit
from application.clients.registration import RegistrationClient
from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone
from config.settings import Settings
from contracts.registration import CarrierDecision, RegistrationStart, RegistrationState
from domain.enums import RegistrationStatus
from domain.errors import ErrorCode
from domain.registration import RegistrationDetails, resubmit_refusal
from store.db import read_only
from store.registration_models import A2pRegistration


class RegistrationOut(BaseModel):
    status: RegistrationStatus
    reason: str | None
    submission: int = Field(description="How many times details were submitted; 0 for none.")
    repeats: bool = Field(default=False, exclude=True)


def _read(
    services: Services, account_id: str, details: RegistrationDetails | None = None
) -> RegistrationOut:
    """The registration as stored; ``repeats`` tells whether ``details`` are what its
    current submission already holds (a retried POST)."""
    with read_only(services.sessions) as session:
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


def registration_start(
    settings: Settings, account_id: str, details: RegistrationDetails, submission: int
) -> RegistrationStart:
    """The registration workflow's input for ``submission`` of ``details``."""
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


def _out(state: RegistrationState) -> RegistrationOut:
    return RegistrationOut(status=state.status, reason=state.reason, submission=state.submission)


async def submit(
    services: Services, permit: Permit, details: RegistrationDetails
) -> RegistrationOut:
    """Submit brand and campaign details (or corrected ones after a failure); the
    carrier's review then runs in the background."""
    permit.require(Action.REGISTER)
    await services.temporal.client()  # unreachable: 503 before anything is read
    account_id = permit.account_id
    current = await asyncio.to_thread(_read, services, account_id, details)
    refused = (
        None if current.status is RegistrationStatus.NONE else resubmit_refusal(current.status)
    )
    if refused is not None:
        if current.repeats:  # a double click or a retried request: same answer, no new run
            return current
        raise ApiError(ErrorCode.CONFLICT, refused)
    start = registration_start(services.settings, account_id, details, current.submission + 1)
    try:
        return _out(await RegistrationClient(services, account_id).submit(start))
    except WorkflowGone as gone:
        raise ApiError(
            ErrorCode.CONFLICT, "The registration's run has just ended; submit it again."
        ) from gone


def registration(services: Services, permit: Permit) -> RegistrationOut:
    permit.require(Action.READ_REGISTRATION)
    return _read(services, permit.account_id)


async def carrier_decided(services: Services, account_id: str, decision: CarrierDecision) -> None:
    """A carrier's decision (its webhook, already verified) for the registration in review."""
    try:
        await RegistrationClient(services, account_id).decide(decision)
    except WorkflowGone as gone:
        raise ApiError(
            ErrorCode.NOT_FOUND, f"No registration of {account_id} is in review."
        ) from gone

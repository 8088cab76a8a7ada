"""The A2P 10DLC registration workflow's contract: its id, input, state, the carrier's decisions
and what its activities record."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from domain.enums import RegistrationStatus
from domain.registration import RegistrationDetails, _Strict


class RegistrationStep(StrEnum):
    BRAND = "brand"
    CAMPAIGN = "campaign"

    @property
    def pending_status(self) -> RegistrationStatus:
        if self is RegistrationStep.BRAND:
            return RegistrationStatus.BRAND_PENDING
        return RegistrationStatus.CAMPAIGN_PENDING


class DecisionSource(StrEnum):
    WEBHOOK = "webhook"
    OPERATOR = "operator"
    SANDBOX = "sandbox"


class CarrierDecision(_Strict):
    """A carrier's verdict on one step. ``submission`` ties it to the submission it
    answers, so a late verdict on a superseded submission is ignored."""

    step: RegistrationStep
    approved: bool
    reason: Annotated[str, StringConstraints(max_length=1000)] | None = None
    submission: Annotated[int, Field(ge=1)] | None = None
    source: DecisionSource = DecisionSource.OPERATOR


class RegistrationStart(_Strict):
    """Workflow input. Durations come from settings through the API, because the
    workflow may not read settings."""

    account_id: str
    details: RegistrationDetails
    submission: Annotated[int, Field(ge=1)]
    reminder_after: timedelta
    decision_timeout: timedelta
    # Set only on the embedded stack: its sandbox carrier approves each step after this.
    sandbox_carrier_delay: timedelta | None = None


class RegistrationState(_Strict):
    status: RegistrationStatus
    reason: str | None = None
    submission: int = 0
    reminders_sent: int = 0


class RegistrationRecord(_Strict):
    """What the ``a2p_registrations`` row must say after this activity."""

    account_id: str
    status: RegistrationStatus
    reason: str | None
    details: RegistrationDetails
    submission: int
    at: datetime


class RegistrationReminder(_Strict):
    account_id: str
    step: RegistrationStep
    submission: int
    number: int
    waiting_since: datetime
    at: datetime


def workflow_id(account_id: str) -> str:
    return f"a2p-10dlc:{account_id}"

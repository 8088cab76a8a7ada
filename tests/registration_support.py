"""Plumbing of the A2P 10DLC registration tests: a brand and campaign that pass, the
API, worker and an account on the time-skipping server, and a signed carrier webhook."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from contracts.registration import CarrierDecision, RegistrationState, RegistrationStep
from domain.enums import GrantSource, Role
from store.db import transaction
from store.ledger import grant_credits
from tests.support import (
    CARRIER_WEBHOOK_SECRET,
    add_addon_row,
    api_client,
    bearer,
    create_account,
    create_user,
    running_worker,
    settings_for,
)
from workflows.registration import A2pRegistrationWorkflow

NOW = datetime.now(UTC)
WEBHOOK = "/v1/webhooks/a2p_10dlc"
SECRET = CARRIER_WEBHOOK_SECRET  # what settings_for configures
US_SEND = {"country": "US", "recipients": 2, "text": "Your order shipped."}
STATUS_WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05

DETAILS: dict[str, Any] = {
    "brand": {
        "legal_name": "Acme Corporation",
        "entity_type": "private_profit",
        "tax_id": "12-3456789",
        "website": "https://acme.test",
        "vertical": "retail",
        "contact_email": "compliance@acme.test",
        "contact_phone": "+14155550100",
        "address": {
            "street": "1 Market St",
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94105",
            "country": "US",
        },
    },
    "campaign": {
        "use_case": "marketing",
        "description": "Weekly promotions and flash sales for opted-in customers.",
        "sample_messages": ["Acme: 20% off everything until midnight! Reply STOP to opt out."],
        "opt_in_description": "Customers tick an unchecked SMS consent box at checkout.",
        "help_message": "Acme: help at acme.test/help or +14155550100. Reply STOP to opt out.",
    },
}


def corrected(part: str, field: str, value: str, base: dict[str, Any] = DETAILS) -> dict[str, Any]:
    details = copy.deepcopy(base)
    details[part][field] = value
    return details


def signed(
    body: dict[str, Any], secret: str = SECRET, at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    """The carrier's request, signed as a sender using the ``standardwebhooks``
    package signs it, sent ``at`` (default now)."""
    raw = json.dumps(body).encode()
    at = at or datetime.now(UTC)
    message_id = f"msg_{uuid.uuid4().hex}"
    return raw, {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, raw.decode()),
        "Content-Type": "application/json",
    }


@dataclass
class Stack:
    api: httpx.AsyncClient
    env: WorkflowEnvironment
    sessions: sessionmaker[Session]
    account_id: str  # unique per test: the Temporal server outlives each test
    admin: str  # the primary admin's token
    user: str  # a plain user's token

    @property
    def path(self) -> str:
        return f"/v1/accounts/{self.account_id}/sms/registrations/a2p_10dlc"

    @property
    def handle(self) -> WorkflowHandle[A2pRegistrationWorkflow, RegistrationState]:
        return self.env.client.get_workflow_handle_for(
            A2pRegistrationWorkflow.run, f"a2p-10dlc:{self.account_id}"
        )

    async def submit(self, details: dict[str, Any]) -> httpx.Response:
        return await self.api.post(self.path, json=details, headers=bearer(self.admin))

    async def status(self) -> dict[str, Any]:
        response = await self.api.get(self.path, headers=bearer(self.user))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_for(self, status: str) -> dict[str, Any]:
        """Poll until the recorded status is ``status`` (the workflow is asynchronous)."""
        deadline = asyncio.get_running_loop().time() + STATUS_WAIT_SECONDS
        while (body := await self.status())["status"] != status:
            assert asyncio.get_running_loop().time() < deadline, body
            await asyncio.sleep(POLL_SECONDS)
        return body

    async def finished(self) -> RegistrationState:
        """The run's result once it has closed (the time-skipping server skips time
        only in ``env.sleep``, so a test sleeps past the end first)."""
        deadline = asyncio.get_running_loop().time() + STATUS_WAIT_SECONDS
        while (await self.handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            assert asyncio.get_running_loop().time() < deadline, "the run did not finish"
            await asyncio.sleep(POLL_SECONDS)
        return await self.handle.result()

    async def decide(self, step: RegistrationStep, approved: bool, **extra: Any) -> None:
        decision = CarrierDecision(step=step, approved=approved, **extra)
        await self.handle.signal(A2pRegistrationWorkflow.decide, decision)

    async def send_us(self) -> httpx.Response:
        url = f"/v1/accounts/{self.account_id}/sms/usage"
        return await self.api.post(url, json=US_SEND, headers=bearer(self.user))


@asynccontextmanager
async def stack(
    env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    database_url: str,
    stand_ins: Sequence[Callable[..., Any]] = (),
    **overrides: object,
) -> AsyncIterator[Stack]:
    account_id = f"acme-{uuid.uuid4().hex[:8]}"
    settings: Settings = settings_for(database_url, **{"sms_carrier": "external", **overrides})
    create_account(sessions, account_id, anchor=date(2026, 1, 1), now=NOW)
    add_addon_row(sessions, account_id, now=NOW)  # sending needs an active add-on
    admin = create_user(sessions, account_id, "ana", role=Role.PRIMARY_ADMIN, now=NOW)
    user = create_user(sessions, account_id, "bob", role=Role.USER, now=NOW)
    with transaction(sessions) as session:
        grant_credits(
            session,
            account_id=account_id,
            source=GrantSource.ADJUSTMENT,
            credits=100,
            expires_at=None,
            at=NOW,
            reference="test",
            key="test-credits",
        )
    async with (
        running_worker(env.client, sessions, settings.sms_task_queue, stand_ins),
        api_client(settings, env.client) as api,
    ):
        yield Stack(api, env, sessions, account_id, admin, user)

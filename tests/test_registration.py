"""A2P 10DLC registration: the real workflow on the time-skipping server, the real
worker, the real API and database."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from domain.enums import GrantSource, Role
from domain.registration import CarrierDecision, RegistrationState, RegistrationStep
from store.db import transaction
from store.ledger import grant_credits
from store.models import A2pRegistration
from tests.support import (
    add_addon_row,
    api_client,
    bearer,
    create_account,
    create_user,
    keep_history,
    running_worker,
    settings_for,
)
from workflows.registration import A2pRegistrationWorkflow

NOW = datetime.now(UTC)
WEBHOOK = "/v1/webhooks/a2p_10dlc"
SECRET = "test-webhook-secret"  # what settings_for configures
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


def signed(body: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Signature-SHA256": f"sha256={digest}", "Content-Type": "application/json"}


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
        running_worker(env.client, sessions, settings.sms_task_queue),
        api_client(settings, env.client) as api,
    ):
        yield Stack(api, env, sessions, account_id, admin, user)


async def test_approved_by_operator_and_webhook_enables_us_sending(
    time_skipping_env, sessions, database_url
):
    async with stack(time_skipping_env, sessions, database_url) as s:
        submitted = await s.submit(DETAILS)
        assert submitted.status_code == 202, submitted.text
        assert submitted.json() == {"status": "brand_pending", "reason": None, "submission": 1}
        refused = await s.send_us()
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "registration_required"

        await s.decide(RegistrationStep.BRAND, True)  # an operator's signal
        await s.wait_for("campaign_pending")
        raw, headers = signed(
            {"account_id": s.account_id, "step": "campaign", "outcome": "approved", "submission": 1}
        )
        hooked = await s.api.post(WEBHOOK, content=raw, headers=headers)
        assert hooked.status_code == 202, hooked.text
        assert await s.wait_for("approved") == {
            "status": "approved",
            "reason": None,
            "submission": 1,
        }

        sent = await s.send_us()
        assert sent.status_code == 200 and sent.json()["credits_debited"] == 2
        assert (await s.finished()).status == "approved"
        repeated = await s.submit(DETAILS)  # a retried POST: the same answer, nothing new
        assert repeated.status_code == 202 and repeated.json()["submission"] == 1
        other = await s.submit(corrected("brand", "legal_name", "Another Name LLC"))
        assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"
        await keep_history(s.handle, "registration/approved")


async def test_failed_registration_is_corrected_and_resubmitted(
    time_skipping_env, sessions, database_url
):
    async with stack(time_skipping_env, sessions, database_url) as s:
        assert (await s.submit(DETAILS)).status_code == 202
        double_click = await s.submit(DETAILS)
        assert double_click.status_code == 202
        assert double_click.json() == {"status": "brand_pending", "reason": None, "submission": 1}
        in_review = await s.submit(corrected("brand", "legal_name", "Acme Corporation Inc."))
        assert in_review.status_code == 409 and in_review.json()["error"]["code"] == "conflict"

        raw, headers = signed(
            {
                "account_id": s.account_id,
                "step": "brand",
                "outcome": "failed",
                "reason": "EIN mismatch",
            }
        )
        assert (await s.api.post(WEBHOOK, content=raw, headers=headers)).status_code == 202
        failed = await s.wait_for("failed")
        assert failed["reason"] is not None and "EIN mismatch" in failed["reason"]

        # Corrected brand: the whole registration is reviewed again.
        fixed_brand = corrected("brand", "legal_name", "Acme Corporation Inc.")
        second = await s.submit(fixed_brand)
        assert second.json() == {"status": "brand_pending", "reason": None, "submission": 2}
        await s.decide(RegistrationStep.BRAND, True, submission=1)  # stale: ignored
        await s.decide(RegistrationStep.CAMPAIGN, True)  # not the step in review: ignored
        assert (await s.handle.query(A2pRegistrationWorkflow.state)).status == "brand_pending"
        await s.decide(RegistrationStep.BRAND, True, submission=2)
        await s.wait_for("campaign_pending")
        await s.decide(RegistrationStep.CAMPAIGN, False, reason="Opt-in unclear")
        await s.wait_for("failed")

        # Only the campaign changed and the brand is approved: only the campaign is reviewed.
        fixed_campaign = corrected(
            "campaign",
            "opt_in_description",
            "Customers text JOIN to 12345 and confirm.",
            base=fixed_brand,
        )
        third = await s.submit(fixed_campaign)
        assert third.json() == {"status": "campaign_pending", "reason": None, "submission": 3}
        await s.decide(RegistrationStep.CAMPAIGN, True)
        await s.wait_for("approved")
        with s.sessions() as session:
            row = session.get(A2pRegistration, s.account_id)
            assert row is not None
            assert row.brand["legal_name"] == "Acme Corporation Inc."
            assert row.campaign["opt_in_description"].startswith("Customers text JOIN")
        assert (await s.send_us()).status_code == 200
        await keep_history(s.handle, "registration/resubmitted")


async def test_webhook_with_a_bad_signature_changes_nothing(
    time_skipping_env, sessions, database_url
):
    async with stack(time_skipping_env, sessions, database_url) as s:
        assert (await s.submit(DETAILS)).status_code == 202
        decision = {"account_id": s.account_id, "step": "brand", "outcome": "approved"}
        raw, good_headers = signed(decision)
        _, wrong_headers = signed(decision, secret="not-the-secret")
        tampered = json.dumps({**decision, "outcome": "failed"}).encode()
        for content, headers in (
            (raw, wrong_headers),
            (raw, {"Content-Type": "application/json"}),
            (tampered, good_headers),
        ):
            response = await s.api.post(WEBHOOK, content=content, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthenticated"
        unknown, unknown_headers = signed({**decision, "account_id": "globex"})
        assert (
            await s.api.post(WEBHOOK, content=unknown, headers=unknown_headers)
        ).status_code == (404)
        invalid, invalid_headers = signed({**decision, "outcome": "maybe"})
        assert (
            await s.api.post(WEBHOOK, content=invalid, headers=invalid_headers)
        ).status_code == (422)
        state = await s.handle.query(A2pRegistrationWorkflow.state)
        assert (state.status, state.submission) == ("brand_pending", 1)
        assert (await s.status())["status"] == "brand_pending"
        await s.handle.terminate("test over")


async def test_registration_needs_the_billing_permission_and_valid_details(
    time_skipping_env, sessions, database_url
):
    async with stack(time_skipping_env, sessions, database_url) as s:
        as_user = await s.api.post(s.path, json=DETAILS, headers=bearer(s.user))
        assert as_user.status_code == 403
        assert as_user.json()["error"]["code"] == "billing_permission_required"
        no_ein = copy.deepcopy(DETAILS)
        del no_ein["brand"]["tax_id"]
        no_samples = corrected("campaign", "use_case", "marketing")
        no_samples["campaign"]["sample_messages"] = []
        no_stop = copy.deepcopy(DETAILS)
        no_stop["campaign"]["opt_out_keywords"] = ["QUIT"]
        for bad in (no_ein, no_samples, no_stop, corrected("brand", "contact_phone", "555")):
            response = await s.submit(bad)
            assert response.status_code == 422, bad
            assert response.json()["error"]["code"] == "invalid_request"
        assert await s.status() == {"status": "none", "reason": None, "submission": 0}


async def test_sandbox_carrier_approves_after_its_delay(time_skipping_env, sessions, database_url):
    delay = 90.0
    async with stack(
        time_skipping_env,
        sessions,
        database_url,
        sms_carrier="sandbox",
        sms_sandbox_carrier_delay_seconds=delay,
    ) as s:
        assert (await s.submit(DETAILS)).json()["status"] == "brand_pending"
        await s.env.sleep(timedelta(seconds=delay / 2))
        assert (await s.status())["status"] == "brand_pending"
        await s.env.sleep(timedelta(seconds=delay))
        await s.wait_for("campaign_pending")
        await s.env.sleep(timedelta(seconds=delay))
        assert (await s.finished()).status == "approved"
        assert (await s.status())["status"] == "approved"
        assert (await s.send_us()).status_code == 200
        await keep_history(s.handle, "registration/sandbox")


async def test_a_late_carrier_gets_reminders_then_the_registration_times_out(
    time_skipping_env, sessions, database_url
):
    async with stack(
        time_skipping_env,
        sessions,
        database_url,
        sms_registration_reminder_hours=6.0,
        sms_registration_timeout_days=1.0,
    ) as s:
        assert (await s.submit(DETAILS)).status_code == 202
        first_run = (await s.handle.describe()).run_id
        await s.env.sleep(timedelta(hours=13))
        state = await s.handle.query(A2pRegistrationWorkflow.state)
        assert (state.status, state.reminders_sent) == ("brand_pending", 2)
        await s.env.sleep(timedelta(hours=12))
        timed_out = await s.wait_for("timed_out")
        assert "in time" in (timed_out["reason"] or "")
        # Reminders at 6, 12 and 18 hours; the 24th hour is the deadline itself.
        assert (await s.handle.query(A2pRegistrationWorkflow.state)).reminders_sent == 3
        assert (await s.send_us()).status_code == 409

        # Nobody corrects it within the window: the run ends, still timed out.
        await s.env.sleep(timedelta(days=1, hours=1))
        final = await s.finished()
        assert final.status == "timed_out"
        await keep_history(s.handle, "registration/timed_out")

        # A later submission starts a new run of the same registration.
        again = await s.submit(DETAILS)
        assert again.json() == {"status": "brand_pending", "reason": None, "submission": 2}
        assert (await s.handle.describe()).run_id != first_run
        await s.handle.terminate("test over")

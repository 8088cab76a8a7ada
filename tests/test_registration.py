"""A2P 10DLC registration: the real workflow on the time-skipping server, the real
worker, the real API and database."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

from contracts.registration import RegistrationStep
from outbound.webhook_signing import new_secret
from store.registration_models import A2pRegistration
from tests.registration_support import (
    DETAILS,
    WEBHOOK,
    corrected,
    signed,
    stack,
)
from tests.support import bearer, keep_history
from workflows.registration import A2pRegistrationWorkflow

# Further from now than the 5 minutes a signed carrier webhook may be.
STALE = timedelta(minutes=6)


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
        _, wrong_headers = signed(decision, secret=new_secret())
        _, stale_headers = signed(decision, at=datetime.now(UTC) - STALE)
        _, early_headers = signed(decision, at=datetime.now(UTC) + STALE)
        tampered = json.dumps({**decision, "outcome": "failed"}).encode()
        for content, headers in (
            (raw, wrong_headers),
            (raw, {"Content-Type": "application/json"}),
            (tampered, good_headers),
            (raw, {**good_headers, "webhook-id": "msg_another"}),  # the id is signed too
            (raw, stale_headers),  # a captured request replayed later
            (raw, early_headers),
            (raw, {**good_headers, "webhook-signature": "not a signature"}),
            (raw, {**good_headers, "webhook-timestamp": "soon"}),
            (raw, {**good_headers, "webhook-signature": ""}),
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

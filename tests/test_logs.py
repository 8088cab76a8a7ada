"""Logs: JSON lines with their ids, refusals without tracebacks, no secret ever written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

import worker
from activities.purchase import PurchaseActivities
from application.security import new_token
from boundary.errors import Fault
from config.settings import Settings, secrets_of
from contracts.purchase import CaptureRequest, CaptureResult
from domain.enums import PurchaseStatus
from domain.errors import ErrorCode
from observability.logs import ids_from_workflow_id, install_filters, make_formatter
from payments.sandbox import REFUSED_METHOD
from tests.failure_support import refusing
from tests.operator_support import admin_post
from tests.purchase_support import open_shop
from tests.reconciler_support import LONG_AGO, reconcile, reconciling, stuck_purchase
from tests.subscription_support import subscribed, task_queue
from tests.support import ADMIN_TOKEN, activity_deps, api_client, running_worker, settings_for

ADDON = {"type": "addon", "tier": "sms-1000"}
PACK = {"type": "credit_pack", "pack": "pack-500"}


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def logs() -> Iterator[Captured]:
    """Everything logged during the test, through the production JSON handler."""
    captured = Captured()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(make_formatter("json", secrets=[ADMIN_TOKEN]))
    install_filters(handler)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield captured
    root.removeHandler(handler)
    root.setLevel(level)


async def test_lines_carry_ids_and_a_refusal_is_one_info_line(
    logs: Captured,
    time_skipping_env: WorkflowEnvironment,
    sqlite_sessions: sessionmaker[Session],
    sqlite_url: str,
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        refused = await shop.buy(PACK)  # the workflow refuses it: no add-on yet
        assert refused.status_code == 409, refused.text
        quote = await shop.buy(ADDON, key="k-1")
        purchase_id = quote.json()["purchase_id"]
        done = await shop.confirm(purchase_id)
        assert done.status_code == 200, done.text
        tokens = (shop.admin, shop.plain, shop.biller)
    lines = logs.lines()  # every line parses as one JSON object
    assert "Traceback" not in logs.text
    refusals = [line for line in lines if line.get("refusal")]
    assert refusals, logs.text
    for line in refusals:
        assert line["level"] == "INFO"
        assert line["refusal"] == ErrorCode.ADDON_NOT_ACTIVE.value
        assert "exc_info" not in line
        assert line["account_id"] == shop.account_id
        assert line["workflow_id"].startswith(f"sms-purchase:{shop.account_id}:")
        assert line["purchase_id"] == line["workflow_id"].rsplit(":", 1)[1]

    access = [line for line in lines if line["logger"] == "sms_addon.access"]
    assert {"level", "logger", "message", "time"} <= set(access[0])
    confirm = next(line for line in access if line["path"].endswith("/confirm"))
    assert confirm["status"] == 200
    assert confirm["purchase_id"] == purchase_id
    assert confirm["account_id"] == shop.account_id
    assert len(confirm["request_id"]) >= 8
    assert all(line.get("request_id") for line in access)
    for header in tokens:
        assert header["Authorization"].removeprefix("Bearer ") not in logs.text


async def test_the_request_id_is_echoed_and_a_sane_incoming_one_kept(
    time_skipping_env: WorkflowEnvironment, sqlite_sessions: sessionmaker[Session], sqlite_url: str
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url, worker=False) as shop:
        kept = await shop.api.get("/v1/sms/countries", headers={"X-Request-ID": "lb-1234abcd"})
        replaced = await shop.api.get("/v1/sms/countries", headers={"X-Request-ID": "<script>"})
        made = await shop.api.get("/v1/sms/countries")
    assert kept.headers["X-Request-ID"] == "lb-1234abcd"
    assert replaced.headers["X-Request-ID"] not in ("", "<script>")
    assert made.headers["X-Request-ID"] != replaced.headers["X-Request-ID"]


async def test_a_503_the_workflow_answered_is_logged_by_its_code_and_temporals_as_temporal(
    logs: Captured,
    time_skipping_env: WorkflowEnvironment,
    sqlite_sessions: sessionmaker[Session],
    sqlite_url: str,
):
    """Ending the add-on now while its renewal's charge is out (the provider refusing
    it, so it stays out) is the subscription's own 503 refusal: the access line names
    its code and why. A 503 because no worker answered names Temporal."""
    env, queue = time_skipping_env, task_queue()
    end_now = {"when": "now", "refund": "prorated", "reason": "goodbye"}
    async with (
        subscribed(
            env,
            sqlite_sessions,
            "refusing",
            queue=queue,
            with_worker=False,
            payment_method=REFUSED_METHOD,
        ) as sub,
        api_client(settings_for(sqlite_url, sms_api_wait_seconds=2), env.client) as api,
    ):
        async with running_worker(env.client, sqlite_sessions, queue):
            await sub.after_boundary(1)
            refused = await admin_post(api, sub.account_id, "/addon/cancel", end_now, "now-1")
        unanswered = await admin_post(api, sub.account_id, "/addon/cancel", end_now, "now-2")
    assert (refused.status_code, unanswered.status_code) == (503, 503)
    assert refused.json()["error"]["code"] == "service_unavailable"
    path = f"/v1/admin/accounts/{sub.account_id}/sms/addon/cancel"
    workflows, temporals = [
        line for line in logs.lines() if line.get("path") == path and line["status"] == 503
    ]
    assert (workflows["level"], workflows["fault"]) == (
        "WARNING",
        "workflow: service_unavailable: A renewal payment is being collected; end the "
        "add-on once it has settled.",
    )
    assert workflows["fault"] in workflows["message"]
    assert temporals["level"] == "WARNING"
    assert temporals["fault"].startswith("temporal: "), temporals["fault"]


def test_tokens_and_secrets_are_redacted(logs: Captured):
    token = new_token()
    log = logging.getLogger("sms_addon.test")
    log.info("headers %s", {"Authorization": f"Bearer {token}"})
    log.info("Authorization: Basic dXNlcjpwYXNz")
    log.warning("a token pasted into a message: %s", token)
    log.info("the admin token is %s", ADMIN_TOKEN)
    stripe_key = "sk_live_51Hx" + "Q" * 24
    log.error("Stripe refused: Invalid API Key provided: %s", stripe_key)
    log.info("metric sms_http_request_duration_seconds and logger sms_addon.api stay")
    assert token not in logs.text
    assert token.removeprefix("sms_")[:20] not in logs.text
    assert ADMIN_TOKEN not in logs.text
    assert "dXNlcjpwYXNz" not in logs.text
    assert stripe_key not in logs.text and "sk_live_[redacted]" in logs.text
    assert "sms_http_request_duration_seconds" in logs.text and "sms_addon.api" in logs.text
    assert logs.text.count("[redacted]") >= 5


def test_the_stripe_key_is_a_secret_of_the_logs():
    """Whatever its shape (one no pattern knows), the configured key is redacted."""
    key = "sk_org_0123456789abcdef"
    assert key in secrets_of(Settings(sms_payment_gateway="stripe", stripe_api_key=key))


def test_real_errors_keep_their_traceback(logs: Captured):
    log = logging.getLogger("temporalio.activity")
    for exc in (
        ValueError("a bug"),
        ApplicationError("not a business code", type="grant_failed", non_retryable=True),
        ApplicationError("retryable", type=ErrorCode.CONFLICT.value),
    ):
        try:
            raise exc
        except Exception:
            log.warning("Completing activity as failed", exc_info=True)
    lines = logs.lines()
    assert [line["level"] for line in lines] == ["WARNING"] * 3
    assert all("Traceback" in line["exc_info"] for line in lines)


class CaptureThatSaysSo:
    """The real capture, saying what it does in its own thread's log line; its first
    attempt loses its answer (a retryable failure)."""

    def __init__(self, real: PurchaseActivities) -> None:
        self.real, self.attempts = real, 0

    @activity.defn(name="capture_payment")
    def capture_payment(self, request: CaptureRequest) -> CaptureResult:
        self.attempts += 1
        logging.getLogger("sms_addon.test.capture").info("capturing, attempt %d", self.attempts)
        if self.attempts == 1:
            raise TimeoutError("the answer was lost")
        return self.real.capture_payment(request)


async def test_the_worker_lines_of_a_purchase_carry_its_purchase_id(
    logs: Captured,
    dev_env: WorkflowEnvironment,
    sqlite_sessions: sessionmaker[Session],
    sqlite_url: str,
):
    """The lines of a purchase's own steps, and those of work done on its behalf by a
    workflow whose id names no purchase (the reconciler settling one left behind)."""
    async with open_shop(dev_env, sqlite_sessions, sqlite_url, worker=False) as shop:
        deps = activity_deps(dev_env.client, sqlite_sessions)
        capture = CaptureThatSaysSo(PurchaseActivities(deps))
        stand_ins = [
            capture.capture_payment,
            refusing("grant_purchase"),
            refusing("refund_payment", Fault.GATEWAY_REJECTED),
        ]
        async with worker.build_worker(dev_env.client, deps, shop.task_queue, stand_ins=stand_ins):
            quote = (await shop.buy(ADDON)).json()
            bought = await shop.confirm(quote["purchase_id"])
        assert bought.json()["status"] == "needs_attention", bought.text
        now = datetime.now(UTC)
        left = stuck_purchase(
            sqlite_sessions,
            shop.account_id,
            PurchaseStatus.PROCESSING,
            now - LONG_AGO,
            "pm_card_visa",
        )
        async with reconciling(dev_env.client, sqlite_sessions, shop.task_queue, refunds=False):
            report = await reconcile(dev_env.client, shop.task_queue)
        assert report.actions == {"purchase_needs_attention": 1}
    lines = logs.lines()
    own = [
        line
        for line in lines
        if line["logger"]
        in ("temporalio.activity", "temporalio.workflow", "sms_addon.test.capture")
        and line.get("workflow_id", "").startswith("sms-purchase:")
    ]
    assert {line["logger"] for line in own} == {
        "temporalio.activity",  # the lost answer, the refused grant and refund
        "temporalio.workflow",  # the needs-attention alert
        "sms_addon.test.capture",
    }
    for line in own:
        assert (line["purchase_id"], line["account_id"]) == (quote["purchase_id"], shop.account_id)
    on_behalf = [line for line in lines if left in line["message"]]
    assert on_behalf, "the reconciler says which purchase needs attention"
    for line in on_behalf:
        assert line["workflow_id"].startswith("sms-reconciler-pass-")
        assert (line["purchase_id"], line["account_id"]) == (left, shop.account_id)
    passes = [line for line in lines if line.get("workflow_id", "").startswith("sms-reconciler")]
    assert all(line.get("account_id") in (None, shop.account_id) for line in passes)


def test_a_schedules_run_names_no_account():
    run = "sms-reconciler-pass-2026-12-02T05:15:00Z"
    assert ids_from_workflow_id(run) == {"workflow_id": run}
    assert ids_from_workflow_id("sms-purchase:acme:pur_1") == {
        "workflow_id": "sms-purchase:acme:pur_1",
        "account_id": "acme",
        "purchase_id": "pur_1",
    }

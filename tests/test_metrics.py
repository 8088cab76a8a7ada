"""The business counters and both /metrics endpoints (API.md "Operators")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

import worker
from activities.subscription import SubscriptionActivities
from contracts.subscription import Renewal, RenewalOutcome
from observability.worker_metrics import WorkerMetrics, worker_metrics
from tests.ports import free_port
from tests.purchase_support import open_shop
from tests.subscription_support import subscribed, task_queue
from tests.support import activity_deps, api_client, bearer, running_worker, settings_for
from tests.test_usage import account_with_user, grant

SEND = {"country": "BR", "recipients": 10, "text": "Sale ends tonight!"}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text as {sample name: [(labels, value)]}; parsing also checks it is valid."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


async def test_a_purchase_and_a_send_are_counted(
    time_skipping_env: WorkflowEnvironment, sqlite_sessions: sessionmaker[Session], sqlite_url: str
):
    completed = {"item_type": "addon", "status": "completed"}
    captured = {"kind": "capture", "status": "succeeded"}
    usage_route = {
        "route": "/v1/accounts/{account_id}/sms/usage",
        "method": "POST",
        "status": "200",
    }
    before = (
        value("sms_purchases_total", **completed),
        value("sms_payments_total", **captured),
        value("sms_credits_granted_total", source="addon"),
        value("sms_credits_debited_total"),
        value("sms_http_request_duration_seconds_count", **usage_route),
    )
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        await shop.bought({"type": "addon", "tier": "sms-1000"})
        sent = await shop.api.post(
            f"/v1/accounts/{shop.account_id}/sms/usage", json=SEND, headers=shop.admin
        )
        assert sent.status_code == 200, sent.text
        debited = sent.json()["credits_debited"]
        scraped = await shop.api.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    after = (
        value("sms_purchases_total", **completed),
        value("sms_payments_total", **captured),
        value("sms_credits_granted_total", source="addon"),
        value("sms_credits_debited_total"),
        value("sms_http_request_duration_seconds_count", **usage_route),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1000, debited, 1]
    names = samples(scraped.text)
    for name in (
        "sms_purchases_total",
        "sms_payments_total",
        "sms_credits_granted_total",
        "sms_credits_debited_total",
        "sms_http_request_duration_seconds_bucket",
    ):
        assert name in names, name
    # Routes are labelled by template, never by the ids in the path.
    routes = {labels["route"] for labels, _ in names["sms_http_request_duration_seconds_count"]}
    assert shop.account_id not in " ".join(routes)
    assert "sms_renewals_total" in scraped.text  # declared even before the first renewal


async def test_a_replayed_or_refused_send_counts_nothing(
    sqlite_sessions: sessionmaker[Session], sqlite_url: str
):
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    token = account_with_user(sqlite_sessions, account_id)
    grant(sqlite_sessions, account_id, 100)
    path = f"/v1/accounts/{account_id}/sms/usage"
    keyed = {**bearer(token), "Idempotency-Key": "sale"}
    before = value("sms_credits_debited_total")
    async with api_client(settings_for(sqlite_url), None) as api:
        first = await api.post(path, json=SEND, headers=keyed)
        again = await api.post(path, json=SEND, headers=keyed)  # its first answer, no debit
        refused = await api.post(path, json={**SEND, "recipients": 100}, headers=bearer(token))
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert refused.status_code == 409, refused.text
    assert value("sms_credits_debited_total") - before == first.json()["credits_debited"] == 40


@pytest.fixture
def serving_metrics() -> Iterator[WorkerMetrics]:
    metrics = worker_metrics()
    metrics.serve("127.0.0.1", free_port())
    yield metrics
    metrics.close()


async def test_the_worker_endpoint_serves_sdk_and_business_metrics(
    dev_env: WorkflowEnvironment,
    serving_metrics: WorkerMetrics,
    sqlite_sessions: sessionmaker[Session],
):
    config = dev_env.client.service_client.config
    client = await Client.connect(
        config.target_host,
        namespace=dev_env.client.namespace,
        data_converter=pydantic_data_converter,
        runtime=serving_metrics.runtime,
    )
    task_queue = f"metrics-{uuid.uuid4().hex[:8]}"
    async with running_worker(client, sqlite_sessions, task_queue), httpx.AsyncClient() as http:
        scraped = await http.get(f"http://127.0.0.1:{serving_metrics.port}/metrics")
    assert scraped.status_code == 200
    names = samples(scraped.text)
    # The SDK's own series, from this worker: it started and polls its task queue.
    started = names.get("temporal_worker_start_total", [])
    assert any(labels["task_queue"].startswith("metrics-") for labels, _ in started), started
    assert "temporal_request_total" in names
    assert "sms_credits_granted_total" in scraped.text
    assert "sms_payments_total" in scraped.text


class RenewalWriteLosesItsAnswer:
    """The renewal's write commits, then its answer is lost once: it runs again."""

    def __init__(self, real: SubscriptionActivities) -> None:
        self.real, self.runs = real, 0

    @activity.defn(name="renew_addon_credits")
    def renew_addon_credits(self, renewal: Renewal) -> RenewalOutcome:
        outcome = self.real.renew_addon_credits(renewal)
        self.runs += 1
        if self.runs == 1:
            raise TimeoutError("the worker lost the answer after the commit")
        return outcome


async def test_a_renewal_is_counted_once_however_often_its_write_runs(
    time_skipping_env: WorkflowEnvironment, sqlite_sessions: sessionmaker[Session]
):
    env, queue = time_skipping_env, task_queue()
    deps = activity_deps(env.client, sqlite_sessions)
    write = RenewalWriteLosesItsAnswer(SubscriptionActivities(deps))
    before = value("sms_renewals_total", outcome="renewed")
    async with (
        subscribed(env, sqlite_sessions, "counted", queue=queue, with_worker=False) as sub,
        worker.build_worker(env.client, deps, queue, stand_ins=[write.renew_addon_credits]),
    ):
        await sub.after_boundary(1)
    assert write.runs == 2
    assert value("sms_renewals_total", outcome="renewed") - before == 1

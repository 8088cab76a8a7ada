"""One trace from the HTTP request through the purchase workflow to its activities."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from observability import tracing
from tests.purchase_support import open_shop


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    yield exporter
    tracing.install(None)
    provider.shutdown()


def test_tracing_is_off_without_an_endpoint():
    tracing.install_from_settings("", "sms-addon-test")
    assert tracing.temporal_interceptors() == []


async def test_one_trace_from_request_to_activities(
    spans: InMemorySpanExporter,
    time_skipping_env: WorkflowEnvironment,
    sqlite_sessions: sessionmaker[Session],
    sqlite_url: str,
):
    # The client as config/temporal.py connects it: with the tracing interceptor,
    # which the worker built on it inherits.
    config = time_skipping_env.client.config()
    config["interceptors"] = tracing.temporal_interceptors()
    traced = Client(**config)
    env = WorkflowEnvironment.from_client(traced)
    async with open_shop(env, sqlite_sessions, sqlite_url) as shop:
        quote = await shop.buy({"type": "addon", "tier": "sms-1000"})
        assert quote.status_code == 201, quote.text
    finished = spans.get_finished_spans()
    request = next(s for s in finished if s.name == "POST /v1/accounts/{account_id}/sms/purchases")
    assert request.context is not None
    trace = [s for s in finished if s.context and s.context.trace_id == request.context.trace_id]
    names = {s.name for s in trace}
    # The route starts the workflow with its review update (update-with-start).
    assert {
        "StartUpdateWithStartWorkflow:SmsPurchase",
        "RunWorkflow:SmsPurchase",
        "HandleUpdate:review",
        # The checks, the price and the record: one local activity.
        "RunActivity:quote_purchase",
    } <= names, sorted(names)

"""OpenTelemetry tracing, off unless an OTLP endpoint is configured.

One tracer provider per process, installed at start-up; the Temporal client (and
so the worker built on it) and the FastAPI app pick it up, which makes one trace
of an HTTP request, the workflow it starts and every activity of that workflow.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

# Scrapes and probes are not worth a trace each.
UNTRACED_URLS = "metrics,healthz"

_provider: TracerProvider | None = None


def install(provider: TracerProvider | None) -> None:
    """Trace through ``provider`` from now on (None: tracing off)."""
    global _provider
    _provider = provider


def install_from_settings(endpoint: str, service_name: str) -> None:
    """Export to the OTLP/HTTP collector at ``endpoint`` (OTEL_EXPORTER_OTLP_ENDPOINT);
    an empty endpoint leaves tracing off."""
    if not endpoint:
        return
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    install(provider)


def temporal_interceptors() -> list[Interceptor]:
    """For ``Client.connect``; a worker built on the client traces with it too."""
    if _provider is None:
        return []
    return [TracingInterceptor(_provider.get_tracer("sms-addon"))]


def instrument_app(app: FastAPI) -> None:
    if _provider is not None:
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=_provider, excluded_urls=UNTRACED_URLS
        )

"""The worker's one Prometheus endpoint: the Temporal SDK's metrics and our counters.

The SDK's metrics come from its Rust core, which serves them only through its own
Prometheus endpoint (``PrometheusConfig``) or hands raw updates to a
``MetricBuffer``. The buffer would mean re-implementing counters, gauges and
histograms over prometheus_client and draining it on a timer; instead the SDK
serves on a private loopback port, and the endpoint operators scrape
(``SMS_WORKER_METRICS_PORT``, prometheus_client's server) answers with our
registry followed by a fresh scrape of the SDK's, parsed by prometheus_client so
the output stays one valid exposition.
"""

from __future__ import annotations

import logging
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

log = logging.getLogger("sms_addon.metrics")

LOOPBACK = "127.0.0.1"
SDK_SCRAPE_TIMEOUT_SECONDS = 2.0


class _WorkerCollector(Collector):
    def __init__(self, sdk_url: str) -> None:
        self._sdk_url = sdk_url

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        try:
            with urllib.request.urlopen(self._sdk_url, timeout=SDK_SCRAPE_TIMEOUT_SECONDS) as r:
                text = r.read().decode()
        except OSError as exc:  # our counters still answer; the gap shows in the SDK series
            log.warning("cannot read the Temporal SDK metrics at %s: %s", self._sdk_url, exc)
            return
        yield from text_string_to_metric_families(text)


def _free_loopback_port() -> int:
    # The SDK cannot bind port 0 and report the port it got, so we pick one.
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass
class WorkerMetrics:
    """The SDK runtime to connect the worker's client with, and (once ``serve`` is
    called) the endpoint operators scrape."""

    runtime: Runtime
    sdk_url: str
    server: WSGIServer | None = None
    thread: Thread | None = None

    @property
    def port(self) -> int:
        assert self.server is not None, "not serving"
        return int(self.server.server_port)

    def serve(self, host: str, port: int) -> None:
        """Serve on ``host:port``; ``OSError`` when the port is taken."""
        collector = _WorkerCollector(self.sdk_url)
        self.server, self.thread = start_http_server(port, addr=host, registry=collector)

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def worker_metrics() -> WorkerMetrics:
    """A runtime whose SDK metrics go to a private loopback exporter. Connect the
    worker's client with ``.runtime`` (before anything else creates the default
    runtime), then ``.serve`` the combined endpoint."""
    sdk_port = _free_loopback_port()
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=f"{LOOPBACK}:{sdk_port}",
                counters_total_suffix=True,  # OpenMetrics names, as prometheus_client writes
                durations_as_seconds=True,
            )
        )
    )
    return WorkerMetrics(runtime=runtime, sdk_url=f"http://{LOOPBACK}:{sdk_port}/metrics")

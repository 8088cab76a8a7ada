"""The Temporal worker: every workflow and activity of the SMS add-on on one task queue.

Run ``python worker.py`` or ``sms-addon worker``; run N of them for scale.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities import all_activities
from activities.deps import ActivityDeps
from config.settings import Settings, get_settings, secrets_of
from config.startup import StartupRefused, connect_checked, load_checked
from config.temporal import ensure_search_attributes
from observability import tracing
from observability.logs import configure_logging
from observability.worker_metrics import WorkerMetrics, worker_metrics
from payments.sandbox import SandboxGateway
from store.db import make_session_factory
from workflows.purchase import PurchaseWorkflow
from workflows.registration import A2pRegistrationWorkflow
from workflows.subscription import SmsSubscriptionWorkflow

log = logging.getLogger("sms_addon.worker")

WORKFLOWS: list[type[Any]] = [
    PurchaseWorkflow,
    A2pRegistrationWorkflow,
    SmsSubscriptionWorkflow,
]
# Activities are synchronous (SQLAlchemy, gateway calls); they run on these threads.
ACTIVITY_THREADS = 16


def build_worker(client: Client, deps: ActivityDeps, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=all_activities(deps),
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS),
    )


def _serve_metrics(settings: Settings, metrics: WorkerMetrics) -> None:
    host, port = settings.sms_worker_metrics_host, settings.sms_worker_metrics_port
    try:
        metrics.serve(host, port)
    except OSError as exc:
        raise StartupRefused(
            f"Cannot serve metrics on {host}:{port} ({exc.strerror}): "
            "set SMS_WORKER_METRICS_PORT to a free port."
        ) from exc
    log.info("worker metrics on http://%s:%d/metrics", host, port)


async def run_worker(settings: Settings) -> None:
    """Serve until cancelled; ``StartupRefused`` (one line) if the process cannot serve."""
    catalogue, engine = load_checked(settings)  # before connecting: refuse fast, say what to run
    metrics = worker_metrics()
    client = await connect_checked(settings, metrics.runtime)
    _serve_metrics(settings, metrics)  # once Temporal answered: a refusal stays one line
    sessions = make_session_factory(engine)
    deps = ActivityDeps(
        sessions=sessions,
        catalogue=catalogue,
        gateway=SandboxGateway(sessions),
        client=client,
        dunning_retry_days=tuple(settings.sms_dunning_retry_days),
    )
    if (advice := await ensure_search_attributes(client)) is not None:
        log.warning(advice)
    worker = build_worker(client, deps, settings.sms_task_queue)
    log.info("worker polling task queue %s", settings.sms_task_queue)
    await worker.run()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.sms_log_format, settings.sms_log_level, secrets_of(settings))
    tracing.install_from_settings(settings.otel_exporter_otlp_endpoint, "sms-addon-worker")
    try:
        asyncio.run(run_worker(settings))
    except StartupRefused as exc:
        sys.exit(str(exc))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()

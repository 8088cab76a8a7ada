"""The Temporal worker: every workflow and activity of the SMS add-on on one task queue.

Run ``python worker.py`` or ``sms-addon worker``; run N of them for scale.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.activity import _Definition as _ActivityDefinition
from temporalio.client import Client
from temporalio.worker import Worker

from activities import all_activities
from activities.deps import ActivityDeps
from boundary.interceptor import ActivityErrorMapping
from config.event_sweep import ensure_event_sweep
from config.payment_janitor import ensure_payment_janitor
from config.reconciler import ensure_reconciler
from config.settings import DEFAULTS, Settings, get_settings, secrets_of
from config.startup import StartupRefused, connect_checked, load_checked
from config.temporal import ensure_search_attributes
from observability import tracing
from observability.logs import configure_logging
from observability.worker_metrics import WorkerMetrics, worker_metrics
from payments.factory import build_gateway
from store.db import make_session_factory
from workflows.auto_top_up import AutoTopUpWorkflow
from workflows.event_delivery import EventDeliveryWorkflow, EventSweepWorkflow
from workflows.mail_delivery import MailDeliveryWorkflow
from workflows.operator_refund import OperatorRefundWorkflow
from workflows.payment_janitor import PaymentJanitorWorkflow
from workflows.purchase import PurchaseWorkflow
from workflows.reconciler import ReconcilerWorkflow
from workflows.registration import A2pRegistrationWorkflow
from workflows.subscription import SmsSubscriptionWorkflow

log = logging.getLogger("sms_addon.worker")

WORKFLOWS: list[type[Any]] = [
    PurchaseWorkflow,
    A2pRegistrationWorkflow,
    SmsSubscriptionWorkflow,
    PaymentJanitorWorkflow,
    OperatorRefundWorkflow,
    EventDeliveryWorkflow,
    EventSweepWorkflow,
    AutoTopUpWorkflow,
    MailDeliveryWorkflow,
    ReconcilerWorkflow,
]
# A workflow task of a dead worker's sticky queue moves to the shared queue after this,
# so another worker picks the workflow up within seconds (DESIGN.md §5).
STICKY_SCHEDULE_TO_START = timedelta(seconds=1)


@dataclass(frozen=True)
class Capacity:
    """How much work one worker takes at once; the defaults are the settings' own
    (SMS_WORKER_ACTIVITY_SLOTS, SMS_WORKER_LOCAL_ACTIVITY_SLOTS, SMS_WORKER_CACHED_WORKFLOWS).
    Activities are synchronous (SQLAlchemy, gateway calls) and each slot has a thread of
    its own: a started activity's start-to-close clock never runs while it waits for a
    thread. Fewer threads in all contend less for the GIL."""

    activities: int = DEFAULTS.sms_worker_activity_slots
    local_activities: int = DEFAULTS.sms_worker_local_activity_slots
    # Workflows kept in memory between their tasks (the sticky cache). Each costs about
    # 60-230 KB (its sandbox); an evicted one replays its history at its next task, which
    # for a subscription is once a month. So memory stays bounded however many are open.
    cached_workflows: int = DEFAULTS.sms_worker_cached_workflows

    @property
    def threads(self) -> int:
        return self.activities + self.local_activities


def build_worker(
    client: Client,
    deps: ActivityDeps,
    task_queue: str,
    capacity: Capacity = Capacity(),
    *,
    stand_ins: Sequence[Callable[..., Any]] = (),
    **options: Any,
) -> Worker:
    """The worker of every workflow and activity. ``stand_ins`` replace the activities of
    the same name (the tests' fault drills); ``options`` go to ``Worker`` as they are."""
    replaced = {activity_name(stand_in) for stand_in in stand_ins}
    options.setdefault("max_cached_workflows", capacity.cached_workflows)
    activities = [a for a in all_activities(deps) if activity_name(a) not in replaced]
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[*activities, *stand_ins],
        activity_executor=ThreadPoolExecutor(capacity.threads),
        max_concurrent_activities=capacity.activities,
        max_concurrent_local_activities=capacity.local_activities,
        sticky_queue_schedule_to_start_timeout=STICKY_SCHEDULE_TO_START,
        interceptors=[ActivityErrorMapping()],
        **options,
    )


def activity_name(activity: Callable[..., Any]) -> str:
    name = _ActivityDefinition.must_from_callable(activity).name
    assert name is not None, "every activity of the service has a name"
    return name


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


async def run_worker(settings: Settings, *, schedules: bool = True) -> None:
    """Serve until cancelled; ``StartupRefused`` (one line) if the process cannot serve.
    ``schedules=False`` leaves the Temporal schedules alone (the renewal storm's time-
    skipping test server has none)."""
    catalogue, engine = load_checked(settings)  # before connecting: refuse fast, say what to run
    metrics = worker_metrics()
    client = await connect_checked(settings, metrics.runtime)
    _serve_metrics(settings, metrics)  # once Temporal answered: a refusal stays one line
    sessions = make_session_factory(engine)
    deps = ActivityDeps(
        sessions=sessions,
        catalogue=catalogue,
        gateway=build_gateway(settings, sessions),
        client=client,
        dunning_retry_days=tuple(settings.sms_dunning_retry_days),
        webhook_allow_private=settings.sms_webhook_allow_private,
        mailer=settings.mailer,
        webhook_delivery_retry=settings.webhook_delivery_retry,
        event_sweep_every=timedelta(seconds=settings.sms_event_sweep_seconds),
    )
    if (advice := await ensure_search_attributes(client)) is not None:
        log.warning(advice)
    if schedules:
        await ensure_payment_janitor(client, settings)
        await ensure_event_sweep(client, settings)
        await ensure_reconciler(client, settings)
    capacity = Capacity(
        activities=settings.sms_worker_activity_slots,
        local_activities=settings.sms_worker_local_activity_slots,
        cached_workflows=settings.sms_worker_cached_workflows,
    )
    worker = build_worker(client, deps, settings.sms_task_queue, capacity)
    log.info("worker polling task queue %s", settings.sms_task_queue)
    await worker.run()


def main(*, schedules: bool = True) -> None:
    settings = get_settings()
    configure_logging(settings.sms_log_format, settings.sms_log_level, secrets_of(settings))
    tracing.install_from_settings(settings.otel_exporter_otlp_endpoint, "sms-addon-worker")
    try:
        asyncio.run(run_worker(settings, schedules=schedules))
    except StartupRefused as exc:
        _exit_at_once(1, str(exc))
    except KeyboardInterrupt:
        _exit_at_once(0)


def _exit_at_once(code: int, message: str = "") -> None:
    """Exit without interpreter teardown: the Temporal client's Rust threads may still
    call into Python while it finalizes, which aborts the process (SIGABRT) instead of
    exiting with ``code`` (temporalio/sdk-python#300)."""
    if message:
        print(message, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()

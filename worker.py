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
from activities.payment_janitor import payment_janitor_activities
from config.payment_janitor import ensure_payment_janitor
from config.settings import Settings, get_settings
from config.startup import StartupRefused, connect_checked, load_checked
from config.temporal import ensure_search_attributes
from payments.factory import build_gateway
from store.db import make_session_factory
from workflows.payment_janitor import PaymentJanitorWorkflow
from workflows.purchase import PurchaseWorkflow
from workflows.registration import A2pRegistrationWorkflow
from workflows.subscription import SmsSubscriptionWorkflow

log = logging.getLogger("sms_addon.worker")

WORKFLOWS: list[type[Any]] = [
    PurchaseWorkflow,
    A2pRegistrationWorkflow,
    SmsSubscriptionWorkflow,
    PaymentJanitorWorkflow,
]
# Activities are synchronous (SQLAlchemy, gateway calls); they run on these threads.
ACTIVITY_THREADS = 16


def build_worker(client: Client, deps: ActivityDeps, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[*all_activities(deps), *payment_janitor_activities(deps)],
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS),
    )


async def run_worker(settings: Settings) -> None:
    """Serve until cancelled; ``StartupRefused`` (one line) if the process cannot serve."""
    catalogue, engine = load_checked(settings)  # before connecting: refuse fast, say what to run
    client = await connect_checked(settings)
    sessions = make_session_factory(engine)
    deps = ActivityDeps(
        sessions=sessions,
        catalogue=catalogue,
        gateway=build_gateway(settings, sessions),
        client=client,
        dunning_retry_days=tuple(settings.sms_dunning_retry_days),
    )
    if (advice := await ensure_search_attributes(client)) is not None:
        log.warning(advice)
    await ensure_payment_janitor(client, settings)
    worker = build_worker(client, deps, settings.sms_task_queue)
    log.info("worker polling task queue %s", settings.sms_task_queue)
    await worker.run()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(run_worker(get_settings()))
    except StartupRefused as exc:
        sys.exit(str(exc))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()

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
from config.settings import Settings, get_settings
from config.temporal import connect, ensure_search_attributes
from domain.catalogue import CatalogueError, load_catalogue
from payments.sandbox import SandboxGateway
from store.db import make_engine, make_session_factory
from store.migrate import schema_problem

log = logging.getLogger("sms_addon.worker")

WORKFLOWS: list[type[Any]] = []
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


def build_deps(settings: Settings, client: Client) -> ActivityDeps:
    """Check the catalogue and the schema; raise ``SystemExit`` with one line if unusable."""
    try:
        catalogue = load_catalogue(settings.sms_catalogue_path)
    except CatalogueError as exc:
        raise SystemExit(f"Invalid catalogue: {exc}. Fix the file or SMS_CATALOGUE_PATH.") from exc
    engine = make_engine(settings.database_url)
    if (problem := schema_problem(engine)) is not None:
        raise SystemExit(problem)
    sessions = make_session_factory(engine)
    return ActivityDeps(
        sessions=sessions, catalogue=catalogue, gateway=SandboxGateway(sessions), client=client
    )


async def run_worker(settings: Settings) -> None:
    client = await connect(settings)
    deps = build_deps(settings, client)
    if (advice := await ensure_search_attributes(client)) is not None:
        log.warning(advice)
    worker = build_worker(client, deps, settings.sms_task_queue)
    log.info("worker polling task queue %s", settings.sms_task_queue)
    await worker.run()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(run_worker(get_settings()))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()

"""The drills' harness (tests/test_outage_drill_*.py): in real time, what the service
depends on goes away for a minute, on SQLite and PostgreSQL side by side
(docs/design.md, "Failure policy"):

- the database refuses connections while one subscription starts and another renews;
- the payment provider cannot be reached across a renewal for longer than the
  gateway's retry bound, so the payment janitor settles the attempt;
- Temporal is stopped while purchases are confirmed and a renewal falls due, and
  started again on the same port with its state.

Each ends with the money invariants (tests/invariants.check_money), every subscription
running, one charge per renewal, messages answered within 2 s while they could be, and
the API having answered 503, never 500, while it could not act. The outages themselves
are tests/outage_support.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from application.context import Services
from boundary.errors import error_code_of
from config.settings import Settings
from contracts.subscription import RESUME_UPDATE, ResumeAccepted, ResumeAddon
from starter.api.app import build_services
from store.db import make_session_factory
from store.models import Payment
from tests.outage_support import LoopbackProxy, sqlite_unreachable, through
from tests.subscription_support import captures
from tests.support import (
    POSTGRES_URL,
    fresh_database,
    migrated_engine,
    postgres_schema,
    settings_for,
)

# How long the database and Temporal are gone.
OUTAGE_SECONDS = 60.0
# Seconds to a drill's renewal: it falls inside the outage that begins once it has loaded.
RENEWAL_IN = 15.0
# Between two probes of what answers during an outage.
PROBE_EVERY_SECONDS = 4.0
# The promise: a message is answered within this whenever the workflow can answer it.
ANSWER_WITHIN = 2.0
# How long recovery may take once the outage is over (durable pauses double to 32 s).
RECOVERY_SECONDS = 120.0


@dataclass
class Database:
    """One database of the drill, as every process of it reaches it."""

    kind: str
    url: str
    sessions: sessionmaker[Session]
    engines: list[Engine] = field(default_factory=list)  # every pool holding connections
    proxy: LoopbackProxy | None = None

    def outage(self) -> contextlib.AbstractContextManager[None]:
        if self.proxy is not None:
            return self.proxy.down()
        return sqlite_unreachable(self.url, self.engines)

    def services(self, settings: Settings, client: Client) -> Services:
        """The API's services on this database (its pool joins the outage)."""
        services = build_services(settings, client)
        self.engines.append(services.engine)
        return services

    def settings(self, **overrides: Any) -> Settings:
        return settings_for(self.url, **overrides)


@contextlib.contextmanager
def databases(tmp_path: Path, *, proxied: bool = False) -> Iterator[list[Database]]:
    """SQLite, and PostgreSQL when TEST_DATABASE_URL is set (``proxied``: behind a proxy
    the drill can cut)."""
    with contextlib.ExitStack() as stack:
        found = [_database(stack, "sqlite", stack.enter_context(_sqlite(tmp_path)))]
        if POSTGRES_URL:
            url = stack.enter_context(postgres_schema(POSTGRES_URL, "drill"))
            migrated_engine(url).dispose()
            proxy = None
            if proxied:
                target = make_url(url)
                proxy = stack.enter_context(LoopbackProxy(target.host or "", target.port or 5432))
                url = through(proxy, url)
            found.append(_database(stack, "postgresql", url, proxy))
        yield found


@contextlib.contextmanager
def _sqlite(tmp_path: Path) -> Iterator[str]:
    with fresh_database("sqlite", tmp_path / "sqlite") as url:
        migrated_engine(url).dispose()
        yield url


def _database(
    stack: contextlib.ExitStack, kind: str, url: str, proxy: LoopbackProxy | None = None
) -> Database:
    engine = migrated_engine(url)
    stack.callback(engine.dispose)
    return Database(kind, url, make_session_factory(engine), [engine], proxy)


@dataclass
class Answers:
    """What answered during an outage: the API's statuses, the workflows' refusals."""

    statuses: list[int] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def api(self, response: httpx.Response) -> None:
        self.statuses.append(response.status_code)

    async def probe(self, handle: WorkflowHandle[Any, Any]) -> None:
        """A resume of an active add-on changes nothing: it is refused, and must be at
        once (409 addon_not_cancelling, or 503 while the workflow waits out an outage)."""
        resume = ResumeAddon(account_id="probe", requested_by="drill")
        call = handle.execute_update(RESUME_UPDATE, resume, result_type=ResumeAccepted)
        try:
            await asyncio.wait_for(call, ANSWER_WITHIN)
        except WorkflowUpdateFailedError as refused:
            self.refusals.append(str(error_code_of(refused.cause)))
            return
        raise AssertionError("an active add-on was resumed")


async def during(seconds: float, *probes: Any) -> None:
    """Run each probe every few seconds until ``seconds`` have passed."""
    end = asyncio.get_running_loop().time() + seconds
    while (left := end - asyncio.get_running_loop().time()) > 0:
        await asyncio.gather(*(probe() for probe in probes))
        await asyncio.sleep(min(PROBE_EVERY_SECONDS, max(left, 0)))


async def running(handle: WorkflowHandle[Any, Any]) -> bool:
    description = await handle.describe()
    status = description.raw_description.workflow_execution_info.status
    return status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


def renewal_charges(sessions: sessionmaker[Session], account_id: str) -> list[Payment]:
    return [c for c in captures(sessions, account_id) if c.idempotency_key.startswith("renewal:")]


def succeeded(payments: list[Payment]) -> list[Payment]:
    return [p for p in payments if p.status == "succeeded"]

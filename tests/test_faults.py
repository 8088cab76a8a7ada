"""A database fault answers 503 ``service_unavailable`` in API.md's error shape on every
endpoint, and the billing page its problem page with 503: never a text/plain 500 or a
dropped connection, over a real socket (uvicorn). The access log line says what
failed, without the statement. The faults are real: a table gone from under the
running API, a database that refuses connections. A bug answers the same 503 and
leaves its traceback in the log.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from application.context import Services
from application.db_writer import DbWriter
from domain.enums import Role
from starter.api.app import build_services, create_app
from store.db import make_engine, make_session_factory
from store.outages import is_outage
from tests.ports import free_port
from tests.support import bearer, create_user, over_http, settings_for
from tests.test_usage import NOW, account_with_user, grant

ACCOUNT = "acme"
SMS = f"/v1/accounts/{ACCOUNT}/sms"
SEND = {"country": "BR", "recipients": 1, "text": "Sale ends tonight!"}
BATCH = {"messages": [{**SEND, "idempotency_key": "b-1"}]}
ADDON = {"item": {"type": "addon", "tier": "sms-1000"}}
CONNECT_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None
    key: str | None = None  # Idempotency-Key


# Each endpoint, and the table its answer cannot do without.
NEEDS = [
    (Call("POST", f"{SMS}/usage", SEND), "credit_entries"),
    (Call("POST", f"{SMS}/usage", SEND, key="send-1"), "credit_entries"),
    (Call("POST", f"{SMS}/usage/batch", BATCH), "credit_entries"),
    (Call("GET", f"{SMS}/ledger"), "credit_entries"),
    (Call("GET", SMS), "addon_subscriptions"),
    (Call("POST", f"{SMS}/purchases", ADDON), "purchases"),
    (Call("POST", f"{SMS}/purchases", ADDON, key="buy-1"), "request_fingerprints"),
]


@dataclass
class Api:
    client: httpx.AsyncClient
    services: Services
    token: str  # the account's primary admin

    async def call(self, call: Call, token: str | None = None) -> httpx.Response:
        headers = bearer(token or self.token)
        if call.key is not None:
            headers["Idempotency-Key"] = call.key
        return await self.client.request(call.method, call.path, json=call.body, headers=headers)

    async def sign_in(self) -> None:
        """A billing page session for the primary admin (its cookie kept by the client)."""
        form = await self.client.get("/billing/sign-in")
        match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert match, form.text
        data = {"api_token": self.token, "csrf_token": match.group(1)}
        signed = await self.client.post("/billing/sign-in", data=data)
        assert signed.status_code == 303, signed.text


@pytest.fixture
async def api(
    database_url: str, sessions: sessionmaker[Session], dev_env: WorkflowEnvironment
) -> AsyncIterator[Api]:
    token = account_with_user(sessions, ACCOUNT, role=Role.PRIMARY_ADMIN)
    grant(sessions, ACCOUNT, 1000)
    services = build_services(settings_for(database_url), dev_env.client)
    async with (
        over_http(services) as base,
        # Generous: a loaded CI machine may take seconds; an answer, not its speed, is tested.
        httpx.AsyncClient(base_url=base, timeout=60.0) as client,
    ):
        yield Api(client, services, token)


@contextmanager
def gone(engine: Engine, table: str) -> Iterator[None]:
    """``table`` is missing (renamed away) until the block ends."""
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_gone"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table}_gone RENAME TO {table}"))


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "service_unavailable" and error["message"], error


def access_line(caplog: pytest.LogCaptureFixture, path: str) -> logging.LogRecord:
    lines = [
        r
        for r in caplog.records
        if r.name == "sms_addon.access" and getattr(r, "path", None) == path
    ]
    assert lines, caplog.text
    return lines[-1]


def assert_logged(caplog: pytest.LogCaptureFixture, path: str, *reasons: str) -> None:
    """The request's access line: 503, a warning naming the database and the driver's
    reason, never the statement."""
    line = access_line(caplog, path)
    fault = getattr(line, "fault", "")
    assert (getattr(line, "status", None), line.levelname) == (503, "WARNING"), line.getMessage()
    assert fault.startswith("database: ") and any(r in fault for r in reasons), fault
    assert fault in line.getMessage()
    assert not re.search(r"\b(SELECT|INSERT|UPDATE)\b", fault), fault
    caplog.clear()


MISSING_TABLE = ("UndefinedTable", "no such table")


@pytest.mark.parametrize(("call", "table"), NEEDS, ids=lambda v: getattr(v, "path", v))
async def test_a_missing_table_answers_503(
    api: Api, engine: Engine, caplog: pytest.LogCaptureFixture, call: Call, table: str
):
    caplog.set_level(logging.INFO)
    with gone(engine, table):
        response = await api.call(call)
    assert_unavailable(response)
    assert_logged(caplog, call.path, *MISSING_TABLE)


async def test_the_page_shows_its_problem_page(
    api: Api, engine: Engine, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    await api.sign_in()
    with gone(engine, "credit_entries"):
        page = await api.client.get("/billing")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "Billing cannot be reached right now" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert_logged(caplog, "/billing", *MISSING_TABLE)
    assert (await api.client.get("/billing")).status_code == 200


async def test_a_fault_in_a_group_commit_answers_each_send_and_the_committer_goes_on(
    api: Api, engine: Engine
):
    """Sends that wait together for one group commit each get the 503; the next
    group, once the table is back, commits."""
    sends = [Call("POST", f"{SMS}/usage", SEND, key=f"g-{n}") for n in range(8)]
    with gone(engine, "credit_entries"):
        answers = await gather(api, sends)
    for response in answers:
        assert_unavailable(response)
    for response in await gather(api, sends):
        assert response.status_code == 200, response.text


async def gather(api: Api, calls: list[Call]) -> list[httpx.Response]:
    return list(await asyncio.gather(*(api.call(call) for call in calls)))


def unreachable_url(database_url: str, tmp_path: Path) -> str:
    """A database of the same kind that cannot be opened: SQLite in a directory that
    is gone, PostgreSQL on a port where nothing listens."""
    if database_url.startswith("sqlite"):
        directory = tmp_path / "gone"
        directory.mkdir()
        return f"sqlite:///{directory / 'sms.db'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone"


def break_database(services: Services, url: str, tmp_path: Path) -> None:
    """Point the running API at ``url``: every later database call fails."""
    if url.startswith("sqlite"):
        broken = make_engine(url)
        shutil.rmtree(tmp_path / "gone")
    else:
        broken = make_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    services.writer.close()
    services.engine.dispose()
    services.engine = broken
    services.sessions = make_session_factory(broken)
    services.writer = DbWriter(broken, services.settings.sms_db_writers)


UNREACHABLE = ("connection failed", "unable to open database file")


async def test_an_unreachable_database_answers_503_everywhere(
    api: Api,
    sessions: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
):
    await api.sign_in()
    # A token known before the fault is cached: its requests reach the routes' own
    # database work. A token first seen during the fault fails where it is looked up.
    assert (await api.call(Call("GET", SMS))).status_code == 200
    newcomer = create_user(sessions, ACCOUNT, "ben", role=Role.USER, now=NOW)
    caplog.set_level(logging.INFO)
    break_database(api.services, unreachable_url(database_url, tmp_path), tmp_path)

    for call, _ in NEEDS:
        assert_unavailable(await api.call(call))
        assert_logged(caplog, call.path, *UNREACHABLE)
    assert_unavailable(await api.call(Call("GET", SMS), token=newcomer))
    assert_logged(caplog, SMS, *UNREACHABLE)
    page = await api.client.get("/billing")
    assert page.status_code == 503 and "Billing cannot be reached" in page.text
    assert_logged(caplog, "/billing", *UNREACHABLE)
    health = await api.client.get("/healthz")
    assert (health.status_code, health.json()["database"]) == (503, "unreachable")


def test_outages_are_told_from_bugs(engine: Engine, database_url: str, tmp_path: Path):
    """``store.outages`` on the real drivers' errors: what the database cannot do now
    is an outage; a statement that could never work is a bug."""

    def error_of(statement: str, on: Engine = engine) -> DBAPIError:
        with pytest.raises(DBAPIError) as raised, on.connect() as connection:
            connection.execute(text(statement))
        return raised.value

    assert is_outage(error_of("SELECT * FROM no_such_table"))
    assert not is_outage(error_of("SELEC 1"))
    assert not is_outage(error_of("SELECT no_such_column FROM accounts"))
    assert not is_outage(error_of("INSERT INTO accounts (id) VALUES (NULL)"))
    unreachable = make_engine(unreachable_url(database_url, tmp_path))
    if database_url.startswith("sqlite"):
        shutil.rmtree(tmp_path / "gone")
    assert is_outage(error_of("SELECT 1", on=unreachable))
    unreachable.dispose()
    if database_url.startswith("postgresql"):
        # The server ends the connection (an administrator, a restart).
        assert is_outage(error_of("SELECT pg_terminate_backend(pg_backend_pid())"))


async def test_a_bug_answers_503_and_logs_its_traceback(
    sqlite_url: str, sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
):
    """A route with a bug (a stand-in added to the real app) on the API and on the page."""

    def broken() -> None:
        raise KeyError("no such plan")

    services = build_services(settings_for(sqlite_url), None)
    app = create_app(services.settings)
    for path in ("/v1/broken", "/billing/broken"):
        app.add_api_route(path, broken)
    caplog.set_level(logging.INFO)
    async with (
        over_http(services, app) as base,
        httpx.AsyncClient(base_url=base, timeout=60.0) as client,
    ):
        api = await client.get("/v1/broken")
        page = await client.get("/billing/broken")
    assert_unavailable(api)
    assert page.status_code == 503 and "Billing cannot be reached" in page.text
    for path in ("/v1/broken", "/billing/broken"):
        line = access_line(caplog, path)
        assert (getattr(line, "status", None), getattr(line, "fault", "")) == (
            503,
            "unexpected: KeyError: 'no such plan'",
        )
    tracebacks = [r for r in caplog.records if r.name == "sms_addon.faults"]
    assert [r.levelname for r in tracebacks] == ["ERROR", "ERROR"]
    assert all(r.exc_info and r.exc_info[0] is KeyError for r in tracebacks)

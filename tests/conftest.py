"""Fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set) and
real Temporal servers from the installed wheels (nothing is downloaded)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from config.temporal import ensure_search_attributes
from store.db import make_session_factory
from tests.servers import start_dev_server, start_time_skipping_server
from tests.support import POSTGRES_URL, fresh_database, migrated_engine

DATABASE_KINDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
# The dev server's default poll rates add ~200 ms to every workflow (DESIGN.md §6).
DEV_SERVER_ARGS = [
    "--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
    "--dynamic-config-value", "history.timerProcessorMaxPollRPS=1000",
    "--dynamic-config-value", "system.enableActivityEagerExecution=true",
]  # fmt: skip


@pytest.fixture(params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of every configured kind; tests using it run once per kind."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = migrated_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = migrated_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_sessions(sqlite_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(sqlite_engine)


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Java time-skipping test server: month-long sleeps pass in milliseconds.

    One server per test: its clock is global, and a workflow left behind by an
    earlier test (its worker gone) would stall time skipping for the next one.
    """
    env = await start_time_skipping_server()
    advice = await ensure_search_attributes(env.client)
    assert advice is None, advice
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (the one `make run` starts), in memory."""
    env = await start_dev_server(DEV_SERVER_ARGS)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fake Stripe server (localstripe, from scratch) for the session; its API base."""
    from tests.stripe_support import localstripe_server

    with localstripe_server(tmp_path_factory.mktemp("localstripe") / "server.log") as base:
        yield base


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, headless, driven by Playwright (the billing page's tests)."""
    from playwright.async_api import async_playwright

    from tests.billing_page_support import CHROMIUM, CHROMIUM_ARGS, INSTALL_CHROMIUM

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; install it with: {INSTALL_CHROMIUM}", pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()

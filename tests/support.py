"""Shared test plumbing: real databases, real Temporal servers, the real API app."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

import worker
from activities.deps import ActivityDeps
from application.context import Services
from application.security import hash_token, new_token
from config.settings import DEMO_SELLER, Settings
from domain.catalogue import Catalogue, load_catalogue
from domain.enums import AddonStatus, BillingCycle, Plan, Role
from domain.receipts import BilledParty
from payments.gateway import PaymentResult
from payments.sandbox import SandboxGateway
from starter.api.app import build_services, create_app
from store.caller_models import ApiToken
from store.db import make_engine, make_session_factory
from store.debits import Message, Outcome, spend
from store.migrate import upgrade_to_head
from store.models import Account, AddonSubscription, User
from tests.ports import free_port

BIN = Path(sys.executable).parent
TEMPORAL_CLI = str(BIN / "temporal")
TEMPORAL_TEST_SERVER = str(BIN / "temporal-test-server")
ADMIN_TOKEN = "test-admin-token"
# The carrier webhook's secret in the tests (Standard Webhooks form: whsec_ + base64).
CARRIER_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"the tests' carrier webhook key!!").decode()
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
# Who issues the tests' receipts: the settings' default seller.
SELLER = BilledParty.of(DEMO_SELLER)


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of ``kind`` ("sqlite" or "postgresql"), dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    assert POSTGRES_URL, "TEST_DATABASE_URL is not set"
    with postgres_schema(POSTGRES_URL, "t") as url:
        yield url


@contextmanager
def postgres_schema(base_url: str, prefix: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server at ``base_url`` (tests and benchmarks),
    dropped afterwards; the URL given sets it as the search path."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def migrated_engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade_to_head(engine)
    return engine


def settings_for(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "sms_admin_token": ADMIN_TOKEN,
        "sms_task_queue": f"test-{uuid.uuid4().hex[:8]}",
        "sms_webhook_secret": CARRIER_WEBHOOK_SECRET,
        "sms_webhook_allow_private": True,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def create_account(
    sessions: sessionmaker[Session],
    account_id: str,
    *,
    plan: Plan = Plan.PLUS,
    cycle: BillingCycle = BillingCycle.MONTHLY,
    anchor: date,
    payment_method: str = "pm_card_visa",
    now: datetime,
) -> None:
    with sessions.begin() as session:
        session.add(
            Account(
                id=account_id,
                name=account_id.title(),
                plan=plan.value,
                billing_cycle=cycle.value,
                billing_anchor=anchor,
                payment_method=payment_method,
                credit_balance=0,
                created_at=now,
                updated_at=now,
            )
        )


def add_addon_row(
    sessions: sessionmaker[Session],
    account_id: str,
    *,
    now: datetime,
    status: AddonStatus = AddonStatus.ACTIVE,
) -> None:
    """Only the add-on's billing-page row, for tests of sending (which needs the
    add-on active) that grant their credits by hand."""
    with sessions.begin() as session:
        session.add(
            AddonSubscription(
                account_id=account_id,
                status=status.value,
                tier="sms-1000",
                currency="USD",
                billing_cycle=BillingCycle.MONTHLY.value,
                monthly_credits=1000,
                recurring_minor=1800,
                activated_at=now,
                updated_at=now,
            )
        )


def create_user(
    sessions: sessionmaker[Session],
    account_id: str,
    user_id: str,
    *,
    role: Role = Role.PRIMARY_ADMIN,
    billing_permission: bool = False,
    now: datetime,
) -> str:
    """Add a user and return a fresh bearer token for it."""
    token = new_token()
    with sessions.begin() as session:
        session.add(
            User(
                account_id=account_id,
                user_id=user_id,
                email=f"{user_id}@{account_id}.test",
                role=role.value,
                billing_permission=billing_permission,
                created_at=now,
            )
        )
        session.flush()
        session.add(
            ApiToken(
                token_hash=hash_token(token),
                account_id=account_id,
                user_id=user_id,
                created_at=now,
            )
        )
    return token


def send_credits(
    sessions: sessionmaker[Session], account_id: str, credits: int, at: datetime
) -> None:
    """A send that spends ``credits`` at ``at`` through the API's own debit (the
    soonest-expiring grants first); anything but a debit fails the test."""
    key = f"usage:{account_id}:test-send-{uuid.uuid4().hex}"  # as the sending route keys it
    spent, _ = spend(sessions.kw["bind"], Message(key, credits, False, "test send"), at)
    assert spent.outcome is Outcome.DEBITED, spent


def activity_deps(client: Client, sessions: sessionmaker[Session]) -> ActivityDeps:
    return ActivityDeps(
        sessions=sessions,
        catalogue=load_catalogue(),
        gateway=SandboxGateway(sessions, SELLER),
        client=client,
        webhook_allow_private=True,
    )


def sandbox_capture(
    sessions: sessionmaker[Session],
    account_id: str,
    *,
    key: str,
    at: datetime,
    method: str = "pm_card_visa",
    amount_minor: int = 1800,
) -> PaymentResult:
    """A charge of the account through the sandbox gateway under ``key`` (a purchase's
    capture is keyed ``purchase:{purchase_id}``)."""
    return SandboxGateway(sessions, SELLER).capture(
        account_id=account_id,
        amount_minor=amount_minor,
        currency="USD",
        payment_method=method,
        idempotency_key=key,
        reference=f"charge {key}",
        at=at,
    )


@asynccontextmanager
async def running_worker(
    client: Client,
    sessions: sessionmaker[Session],
    task_queue: str,
    stand_ins: Sequence[Callable[..., Any]] = (),
) -> AsyncIterator[Worker]:
    """The real worker (every workflow and activity, but ``stand_ins`` for those of the
    same name) polling ``task_queue``."""
    deps = activity_deps(client, sessions)
    async with worker.build_worker(client, deps, task_queue, stand_ins=stand_ins) as w:
        yield w


@asynccontextmanager
async def serving(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over ASGI with ``services`` (which a test may then break)."""
    app: FastAPI = create_app(services.settings)
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        services.writer.close()
        services.engine.dispose()


@asynccontextmanager
async def over_http(services: Services, app: FastAPI | None = None) -> AsyncIterator[str]:
    """The real app (or ``app``) with ``services`` (which a test may then break), served
    by uvicorn on a free loopback port in this event loop (so it shares the test's
    Temporal client); its base URL. What a client gets is what travels over a real socket."""
    app = app or create_app(services.settings)
    app.state.services = services
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        services.writer.close()
        services.engine.dispose()


@asynccontextmanager
async def api_client(
    settings: Settings, temporal_client: Client | None
) -> AsyncIterator[httpx.AsyncClient]:
    """The real FastAPI app over ASGI; services are built as the lifespan would."""
    async with serving(build_services(settings, temporal_client)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def catalogue() -> Catalogue:
    return load_catalogue()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


HISTORIES = Path(__file__).with_name("histories")


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Record the workflow's history as ``tests/histories/{name}.json`` when
    RECORD_HISTORIES=1; test_replay.py replays every file there against today's code."""
    if os.environ.get("RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    path = HISTORIES / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(history.to_json())

"""Plumbing of the alert, event and auto top-up tests: an account whose add-on is
active, its settings through the real API, and a real local webhook receiver."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from domain.enums import AddonStatus, GrantSource, Role
from domain.events import TopUpStatus
from store.db import transaction
from store.event_models import AutoTopUp
from store.ledger import grant_credits
from store.models import AddonSubscription
from tests.ports import HOST, start_on_reserved_ports
from tests.support import bearer, create_account, create_user

T = TypeVar("T")
SEND_CREDITS = 4  # one message to Brazil
# Waits for the worker; a bound on waiting, not a timing assertion.
SETTLE_WAIT_SECONDS = 60.0


@dataclass
class Account:
    account_id: str
    admin: dict[str, str]
    plain: dict[str, str]

    def path(self, tail: str) -> str:
        return f"/v1/accounts/{self.account_id}/sms{tail}"


def active_account(sessions: sessionmaker[Session], credits: int, now: datetime) -> Account:
    """An account whose add-on is active this month, holding ``credits``."""
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(sessions, account_id, anchor=date(now.year, now.month, 1), now=now)
    admin = create_user(sessions, account_id, "ana", role=Role.PRIMARY_ADMIN, now=now)
    plain = create_user(sessions, account_id, "pat", role=Role.USER, now=now)
    end = now + timedelta(days=40)
    with transaction(sessions) as session:
        session.add(
            AddonSubscription(
                account_id=account_id,
                status=AddonStatus.ACTIVE.value,
                tier="sms-1000",
                currency="USD",
                billing_cycle="monthly",
                monthly_credits=credits,
                recurring_minor=1800,
                period_start=now - timedelta(days=1),
                period_end=end,
                next_charge_at=end,
                next_charge_minor=1800,
                activated_at=now,
                ends_at=None,
                updated_at=now,
            )
        )
    top_up(sessions, account_id, credits, key="start")
    return Account(account_id, bearer(admin), bearer(plain))


def top_up(sessions: sessionmaker[Session], account_id: str, credits: int, key: str) -> None:
    """An operator's grant (e.g. the next month), which re-arms a low-balance alert."""
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        grant_credits(
            session,
            account_id=account_id,
            source=GrantSource.ADJUSTMENT,
            credits=credits,
            expires_at=now + timedelta(days=30),
            at=now - timedelta(seconds=1),
            reference=key,
            key=f"{account_id}:{key}",
        )


async def send(api: httpx.AsyncClient, account: Account, recipients: int) -> httpx.Response:
    return await api.post(
        account.path("/usage"),
        json={"country": "BR", "recipients": recipients, "text": "Flash sale!"},
        headers={**account.admin, "Idempotency-Key": uuid.uuid4().hex},
    )


async def put_settings(
    api: httpx.AsyncClient, account: Account, body: dict[str, Any]
) -> dict[str, Any]:
    response = await api.put(account.path("/settings"), json=body, headers=account.admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def events(api: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await api.get(account.path("/events"), headers=account.admin)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def top_ups(sessions: sessionmaker[Session], account_id: str) -> list[AutoTopUp]:
    with sessions() as session:
        query = select(AutoTopUp).where(AutoTopUp.account_id == account_id)
        return list(session.scalars(query.order_by(AutoTopUp.claimed_at)))


async def settled(sessions: sessionmaker[Session], account_id: str) -> list[AutoTopUp]:
    """The account's top-ups once none is in flight (the worker settles them)."""
    return await until(
        lambda: top_ups(sessions, account_id),
        lambda rows: all(r.status != TopUpStatus.IN_FLIGHT for r in rows),
        "a top-up",
    )


async def until(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """``read()`` until ``done`` holds of it: the worker's work, waited for within a bound."""
    deadline = asyncio.get_running_loop().time() + SETTLE_WAIT_SECONDS
    while True:
        value = read()
        if done(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"{what} never settled"
        await asyncio.sleep(0.1)


# A receiver that never recovers: it refuses every POST.
FOREVER = 10**9


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    host: str  # the Host header as it arrived


@dataclass
class Receiver:
    """A webhook receiver on a reserved loopback port that answers ``refusal`` to the
    first ``failures`` POSTs and 204 after that; it keeps every request it got."""

    failures: int
    refusal: int = 503
    location: str | None = None  # sent with a refusal (a redirect's target)
    url: str = ""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(r.body) for r in self.received[self.failures :]]

    def recover(self) -> None:
        """Answer 204 from the next POST on."""
        with self.lock:
            self.failures = len(self.received)

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every request, verified as a receiver would with the ``standardwebhooks``
        package (which raises on a bad signature or a timestamp 5 minutes away)."""
        with self.lock:
            return [Webhook(secret).verify(r.body, r.headers) for r in self.received]


@contextmanager
def receiver(
    failures: int,
    refusal: int = 503,
    location: str | None = None,
    tls: ssl.SSLContext | None = None,
) -> Iterator[Receiver]:
    """A receiver on loopback; over HTTPS when given a server-side ``tls`` context."""
    state = Receiver(failures, refusal, location)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {name.lower(): value for name, value in self.headers.items()}
            with state.lock:
                state.received.append(Received(body, headers, self.headers.get("Host", "")))
                failing = len(state.received) <= state.failures
            self.send_response(state.refusal if failing else 204)
            if failing and state.location is not None:
                self.send_header("Location", state.location)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = start_on_reserved_ports(
        1, lambda ports: ThreadingHTTPServer((HOST, ports[0]), Handler)
    )
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "http" if tls is None else "https"
    state.url = f"{scheme}://{HOST}:{server.server_address[1]}/hooks/sms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

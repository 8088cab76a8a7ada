"""Stripe tests: a localstripe server, the Stripe gateway on it, the real worker with
that gateway, and readers of the Stripe side."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import stripe
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

import worker
from activities.deps import ActivityDeps
from domain.catalogue import load_catalogue
from payments.factory import build_gateway
from payments.stripe_gateway import StripeGateway
from store.models import ProviderCustomer
from tests.ports import free_port
from tests.support import settings_for

API_KEY = "sk_test_localstripe"
STARTUP_SECONDS = 30


@contextmanager
def localstripe_server(log: Path) -> Iterator[str]:
    """A localstripe process on a free loopback port; its API base once it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.localstripe_server", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {log.read_text()[-2000:]}")
            try:
                httpx.get(f"{base}/v1/customers", auth=(API_KEY, ""), timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def stripe_client(base: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": base}, max_network_retries=0)


def stripe_settings(base: str) -> dict[str, Any]:
    return {
        "sms_payment_gateway": "stripe",
        "stripe_api_key": API_KEY,
        "stripe_api_base": base,
        "stripe_localstripe": True,
    }


def stripe_gateway(
    sessions: sessionmaker[Session], base: str, *, as_for_stripe: bool = False
) -> StripeGateway:
    """The gateway on localstripe; ``as_for_stripe``: sending what real Stripe takes and
    localstripe refuses with a 400 ``invalid_request_error`` (as a provider refuses a
    parameter after an API-version change)."""
    settings = {**stripe_settings(base), "stripe_localstripe": not as_for_stripe}
    gateway = build_gateway(settings_for("sqlite://", **settings), sessions)
    assert isinstance(gateway, StripeGateway)
    return gateway


@asynccontextmanager
async def stripe_worker(
    client: Client,
    sessions: sessionmaker[Session],
    task_queue: str,
    base: str,
    *,
    as_for_stripe: bool = False,
) -> AsyncIterator[Worker]:
    """The real worker (every workflow and activity) with the Stripe gateway."""
    deps = ActivityDeps(
        sessions=sessions,
        catalogue=load_catalogue(),
        gateway=stripe_gateway(sessions, base, as_for_stripe=as_for_stripe),
        client=client,
    )
    async with worker.build_worker(client, deps, task_queue) as running:
        yield running


def intents_of(base: str, account_id: str) -> list[stripe.PaymentIntent]:
    """Every PaymentIntent Stripe holds for the account (by our metadata).
    localstripe cannot list by customer, so this lists all and filters."""
    listed = stripe_client(base).v1.payment_intents.list({"limit": 100}).auto_paging_iter()
    mine = [i for i in listed if metadata(i.metadata).get("account_id") == account_id]
    return mine


def refunds_of(base: str, intent_id: str) -> list[stripe.Refund]:
    return list(stripe_client(base).v1.refunds.list({"payment_intent": intent_id}).data)


def metadata(value: stripe.StripeObject | None) -> dict[str, str]:
    return {} if value is None else dict(value.to_dict())


def customer_of(sessions: sessionmaker[Session], account_id: str) -> ProviderCustomer:
    with sessions() as session:
        customer = session.get(ProviderCustomer, account_id)
        assert customer is not None
        return customer

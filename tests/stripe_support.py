"""Stripe tests: a localstripe server, the Stripe gateway on it (optionally over a link
that can fail), the real worker with that gateway, a sweep of the payment janitor, and
readers of the Stripe side."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import stripe
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import worker
from activities.deps import ActivityDeps
from contracts.payment_janitor import PAYMENT_JANITOR_WORKFLOW, JanitorReport, JanitorRequest
from domain.catalogue import load_catalogue
from payments.factory import STRIPE_TIMEOUT_SECONDS, build_gateway
from payments.stripe_gateway import StripeGateway
from store.models import ProviderCustomer
from tests.ports import free_port
from tests.purchase_support import Shop, open_shop
from tests.support import SELLER, settings_for

API_KEY = "sk_test_localstripe"
# The sweep of ``janitor_sweep``: attempts pending for this long (wall clock).
JANITOR_AGE_SECONDS = 1
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


class ProviderLink(stripe.RequestsClient):
    """The worker's HTTP connection to Stripe, which a test can break: while ``down``
    nothing reaches Stripe (a connection error, as when it cannot be reached); after
    ``lose_answer_to(path)`` the next POST to a path ending so reaches Stripe, its
    answer is lost and the link is down from then on; while ``refuse(path)`` holds,
    each POST to a path ending so carries a parameter localstripe does not take, so that
    Stripe itself refuses it (a 400 ``invalid_request_error``, as a provider refuses a
    request after an API-version change)."""

    def __init__(self) -> None:
        super().__init__(timeout=STRIPE_TIMEOUT_SECONDS)
        self.down = threading.Event()
        self._lost: str | None = None
        self._refused: str | None = None

    def lose_answer_to(self, path_end: str) -> None:
        self._lost = path_end

    def refuse(self, path_end: str | None) -> None:
        """Have Stripe refuse the POSTs to paths ending in ``path_end`` (None: no more)."""
        self._refused = path_end

    # RequestsClient's own signature (stripe's base class declares another return type).
    def request(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        if self.down.is_set():
            raise unreachable(f"Stripe cannot be reached (injected): {url}")
        refused, path = self._refused, urlsplit(url).path
        if refused is not None and method.lower() == "post" and path.endswith(refused):
            post_data = f"{post_data or ''}&refused_by_test=yes".lstrip("&")
        answer = super().request(method, url, headers, post_data)
        lost = self._lost
        if lost is not None and method.lower() == "post" and urlsplit(url).path.endswith(lost):
            self._lost = None
            self.down.set()
            raise unreachable(f"The answer to {url} was lost (injected)")
        return answer


def unreachable(message: str) -> stripe.APIConnectionError:
    """What stripe's HTTP client raises when the network fails."""
    return stripe.APIConnectionError(message)  # type: ignore[no-untyped-call]


def stripe_gateway(
    sessions: sessionmaker[Session],
    base: str,
    *,
    as_for_stripe: bool = False,
    link: ProviderLink | None = None,
) -> StripeGateway:
    """The gateway on localstripe; ``as_for_stripe``: sending what real Stripe takes and
    localstripe refuses with a 400 ``invalid_request_error`` (as a provider refuses a
    parameter after an API-version change); ``link``: over that connection."""
    if link is not None:
        client = stripe.StripeClient(
            API_KEY, base_addresses={"api": base}, max_network_retries=0, http_client=link
        )
        return StripeGateway(sessions, client, seller=SELLER, localstripe=not as_for_stripe)
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
    link: ProviderLink | None = None,
    stand_ins: Sequence[Callable[..., Any]] = (),
) -> AsyncIterator[Worker]:
    """The real worker (every workflow and activity, but ``stand_ins``) with the Stripe
    gateway, over ``link`` when given."""
    deps = ActivityDeps(
        sessions=sessions,
        catalogue=load_catalogue(),
        gateway=stripe_gateway(sessions, base, as_for_stripe=as_for_stripe, link=link),
        client=client,
    )
    async with worker.build_worker(client, deps, task_queue, stand_ins=stand_ins) as running:
        yield running


@asynccontextmanager
async def stripe_shop(
    env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    database_url: str,
    base: str,
    link: ProviderLink,
    *,
    stand_ins: Sequence[Callable[..., Any]] = (),
    **settings: Any,
) -> AsyncIterator[Shop]:
    """A shop (``tests.purchase_support``) whose worker reaches Stripe over ``link``."""
    async with (
        open_shop(
            env, sessions, database_url, worker=False, **stripe_settings(base), **settings
        ) as shop,
        stripe_worker(env.client, sessions, shop.task_queue, base, link=link, stand_ins=stand_ins),
    ):
        yield shop


async def janitor_sweep(client: Client, task_queue: str) -> JanitorReport:
    """One run of the payment janitor's workflow, as its schedule starts it, over every
    attempt pending for a second or more (of the wall clock, by which it ages them)."""
    await asyncio.sleep(JANITOR_AGE_SECONDS + 0.2)
    report: JanitorReport = await client.execute_workflow(
        PAYMENT_JANITOR_WORKFLOW,
        JanitorRequest(older_than_seconds=JANITOR_AGE_SECONDS),
        id=f"janitor-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        result_type=JanitorReport,
    )
    return report


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

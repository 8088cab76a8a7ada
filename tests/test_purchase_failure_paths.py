"""A permanent failure at every step of the purchase ends it in a recorded status and
never as a Failed workflow: refused before money moves → rejected (or expired, or
failed when the provider refused the request); after the capture → refunded, or
needs_attention with an alert when the refund fails too; after the grant → completed
(the reconciler restarts a missing subscription). No claim is left held. On the dev
server, whose visibility lists the executions by status."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import REGISTRY

import worker
from boundary.errors import Fault
from domain.purchase import TERMINAL_STATUSES
from store.models import Purchase
from tests.failure_support import closed_executions, refusing
from tests.invariants import check_money
from tests.purchase_support import Shop, open_shop
from tests.support import activity_deps, keep_history

ADDON = {"type": "addon", "tier": "sms-1000"}
QUOTE_TTL_SECONDS = 300


@dataclass(frozen=True)
class Case:
    step: str
    stand_ins: list[Callable[..., Any]]
    answered: int  # the confirm's status (the review's for the quote)
    status: str
    code: str | None
    captured: int = 0
    granted: int = 0
    add_on: str = "inactive"
    alerts: int = 0  # needs_attention purchases counted for the alert
    quote_ttl_seconds: int = QUOTE_TTL_SECONDS
    history: str | None = None  # recorded as tests/histories/{history}.json


CASES = [
    Case("quote", [refusing("quote_purchase")], 409, "rejected", "missing_record"),
    # The confirm cannot check the permission: refused, the quote waits out its time.
    Case(
        "permission",
        [refusing("check_permission")],
        503,
        "expired",
        "quote_expired",
        quote_ttl_seconds=3,
    ),
    Case("claim", [refusing("claim_item")], 409, "rejected", "missing_record"),
    Case(
        "capture: the provider refuses",
        [refusing("capture_payment", Fault.GATEWAY_REJECTED)],
        502,
        "failed",
        "payment_provider_error",
    ),
    Case(
        "capture: its record is gone",
        [refusing("capture_payment")],
        409,
        "rejected",
        "missing_record",
    ),
    Case("grant", [refusing("grant_purchase")], 200, "refunded", "grant_failed", captured=1),
    Case(
        "grant, then the refund",
        [refusing("grant_purchase"), refusing("refund_payment", Fault.GATEWAY_REJECTED)],
        200,
        "needs_attention",
        "refund_failed",
        captured=1,
        alerts=1,
        history="purchase/needs_attention",
    ),
    Case(
        "reach the subscription",
        [refusing("start_subscription")],
        200,
        "completed",
        None,
        captured=1,
        granted=1,
        add_on="active",
    ),
]


def needs_attention_counted() -> float:
    sample = REGISTRY.get_sample_value(
        "sms_purchases_total", {"item_type": "addon", "status": "needs_attention"}
    )
    return sample or 0.0


async def buy_and_confirm(shop: Shop) -> tuple[int, str]:
    """The add-on reviewed and confirmed; the status the API answered last, and the
    purchase's id."""
    quote = await shop.buy(ADDON)
    if quote.status_code != 201:
        return quote.status_code, quote.json()["error"]["purchase"]["purchase_id"]
    purchase_id = quote.json()["purchase_id"]
    confirmed = await shop.confirm(purchase_id)
    return confirmed.status_code, purchase_id


async def ended(shop: Shop, purchase_id: str) -> dict[str, Any]:
    """The purchase once it has ended (an unconfirmed quote ends when it expires)."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        purchase = await shop.get(f"/purchases/{purchase_id}")
        if purchase["status"] in {status.value for status in TERMINAL_STATUSES}:
            return dict(purchase)
        assert asyncio.get_running_loop().time() < deadline, purchase
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("case", CASES, ids=[case.step for case in CASES])
async def test_a_permanent_failure_at_each_step_ends_in_a_recorded_status(
    case: Case, dev_env, sessions, database_url, caplog
):
    alerts_before = needs_attention_counted()
    async with open_shop(
        dev_env, sessions, database_url, worker=False, sms_quote_ttl_seconds=case.quote_ttl_seconds
    ) as shop:
        deps = activity_deps(dev_env.client, sessions)
        async with worker.build_worker(
            dev_env.client, deps, shop.task_queue, stand_ins=case.stand_ins
        ):
            answered, purchase_id = await buy_and_confirm(shop)
            purchase = await ended(shop, purchase_id)
            ran = await closed_executions(dev_env.client, shop.account_id)
            if case.history is not None and database_url.startswith("sqlite"):
                await keep_history(shop.handle(purchase_id), case.history)
        page = await shop.get()
    assert answered == case.answered, (answered, purchase)
    assert purchase["status"] == case.status
    assert (purchase["failure"] or {}).get("code") == case.code
    assert ran == {"SmsPurchase": 1}
    assert shop.counts() == (case.captured, case.granted)
    assert page["addon"]["status"] == case.add_on
    with sessions() as session:  # no claim is held: every purchase has ended
        statuses = {
            row.status for row in session.query(Purchase).filter_by(account_id=shop.account_id)
        }
    assert statuses == {case.status}
    assert needs_attention_counted() - alerts_before == case.alerts
    alerted = [
        r
        for r in caplog.records
        if r.levelno == logging.ERROR and "needs attention" in r.getMessage()
    ]
    assert len(alerted) == case.alerts
    assert check_money(sessions, shop.account_id) == {case.status: 1}

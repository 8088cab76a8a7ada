"""A payment provider that stops answering during a capture, for longer than the
gateway's retry bound (Stripe on localstripe, the worker's connection to it broken):
the charge's outcome is unknown, so nothing ends as if nothing was charged. The
purchase stays ``processing`` (the confirm answers 202, the billing page says it is
being processed), waits on durable timers while the payment janitor settles the
attempt against Stripe, then ends as Stripe says: paid and granted, or, when Stripe
never saw the attempt, ``failed`` with nothing charged and its claim released. An
auto top-up waits the same way.

On the time-skipping server: the bound's minutes and the pauses pass in seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle

from boundary.options import GATEWAY_PATIENCE, OUTAGE_LONGEST_PAUSE
from contracts.events import TopUpOutcome, top_up_workflow_id
from domain.events import TopUpStatus
from store.models import Payment
from tests.event_support import active_account, events, put_settings, send, top_ups
from tests.invariants import check_money
from tests.page_support import PageVisit
from tests.stripe_support import (
    ProviderLink,
    intents_of,
    janitor_sweep,
    stripe_settings,
    stripe_shop,
    stripe_worker,
)
from tests.support import api_client, settings_for

ADDON = {"type": "addon", "tier": "sms-1000"}
# Past the gateway's bound: every attempt refused by the broken link, and some pauses.
PAST_THE_BOUND = GATEWAY_PATIENCE * 3
# The workflow reads the settled attempt within its longest pause.
NEXT_READ = OUTAGE_LONGEST_PAUSE + timedelta(seconds=10)
# The API's wait for the confirm: shorter than the bound, so the confirm outlasts it.
API_WAIT_SECONDS = 2.0


def break_link(link: ProviderLink, fault: str) -> None:
    """``answer_lost``: the charge reaches Stripe and its answer is lost, Stripe is
    unreachable from then on; ``never_reached``: nothing reaches Stripe."""
    if fault == "answer_lost":
        link.lose_answer_to("/confirm")
    else:
        link.down.set()


async def details(handle: WorkflowHandle[Any, Any]) -> str:
    metadata: WorkflowMetadata = await handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return metadata.current_details


def pending(sessions: sessionmaker[Session], account_id: str) -> list[Payment]:
    with sessions() as session:
        query = select(Payment).where(Payment.account_id == account_id, Payment.status == "pending")
        return list(session.scalars(query))


@pytest.mark.parametrize("fault", ["answer_lost", "never_reached"])
async def test_a_capture_past_the_bound_ends_as_the_janitor_settles_it(
    time_skipping_env, sessions, database_url, localstripe, fault
):
    env, link = time_skipping_env, ProviderLink()
    async with stripe_shop(
        env, sessions, database_url, localstripe, link, sms_api_wait_seconds=API_WAIT_SECONDS
    ) as shop:
        quote = await shop.buy(ADDON)
        assert quote.status_code == 201, quote.text
        purchase_id = quote.json()["purchase_id"]
        break_link(link, fault)
        waiting = await shop.confirm(purchase_id, key="confirm-once")
        assert waiting.status_code == 202, waiting.text
        assert waiting.json()["status"] == "processing"
        page = PageVisit(shop)  # the billing page's confirm joins it, and says so
        await page.sign_in()
        where = await page.post(f"/purchases/{purchase_id}/confirm")
        assert where == f"?purchase={purchase_id}", where
        assert "A purchase is being processed" in await page.html(where)

        await env.sleep(PAST_THE_BOUND)
        handle = shop.handle(purchase_id)
        assert "payment outcome unknown since" in await details(handle)
        assert (await shop.get(f"/purchases/{purchase_id}"))["status"] == "processing"
        (attempt,) = pending(sessions, shop.account_id)
        assert attempt.idempotency_key == f"purchase:{purchase_id}"

        link.down.clear()
        report = await janitor_sweep(env.client, shop.task_queue)
        await env.sleep(NEXT_READ)
        ended = await handle.result()
        again = await shop.confirm(purchase_id, key="confirm-once")  # the first's answer
        read = await shop.get(f"/purchases/{purchase_id}")
        if fault == "never_reached":  # the claim was released: the add-on can be bought
            bought = await shop.bought(ADDON)
        payments = (await shop.get("/payments"))["payments"]
    assert read == again.json().get("error", {}).get("purchase", again.json())
    assert read["status"] == ended["status"]
    intents = intents_of(localstripe, shop.account_id)
    if fault == "answer_lost":
        assert (report.succeeded, report.declined) == (1, 0)
        assert again.status_code == 200 and read["status"] == "completed"
        (intent,) = intents
        assert (intent.status, intent.amount) == ("succeeded", read["quote"]["due_now_minor"])
        assert [p["provider_ref"] for p in payments] == [intent.id]  # charged once
        assert shop.counts() == (1, 1) and shop.balance() == 1000
        assert check_money(sessions, shop.account_id) == {"completed": 1}
    else:
        assert (report.succeeded, report.declined) == (0, 1)
        assert again.status_code == 502, again.text
        assert read["status"] == "failed" and read["failure"]["code"] == "payment_provider_error"
        assert "could not be reached; nothing was charged" in read["failure"]["message"]
        (paid,) = [p for p in payments if p["status"] == "succeeded"]  # the next purchase's
        assert paid["payment_id"] == bought["payment"]["payment_id"]
        assert [i.id for i in intents] == [paid["provider_ref"]]
        assert check_money(sessions, shop.account_id) == {"failed": 1, "completed": 1}
    assert not pending(sessions, shop.account_id)


TOP_UP = {"pack": "pack-500", "below": 100, "max_per_month": 3}


@pytest.mark.parametrize("fault", ["answer_lost", "never_reached"])
async def test_an_auto_top_up_past_the_bound_waits_for_the_janitor(
    time_skipping_env, sqlite_sessions, sqlite_url, localstripe, fault
):
    """The top-up stays in flight (and so claims no other) until the janitor settles
    its charge: paid, it grants once; never seen by Stripe, it ends declined with
    nothing charged and auto top-up off, as any charge that could not be made."""
    env, link = time_skipping_env, ProviderLink()
    account = active_account(sqlite_sessions, 200, datetime.now(UTC))
    settings = settings_for(sqlite_url, **stripe_settings(localstripe))
    async with (
        stripe_worker(env.client, sqlite_sessions, settings.sms_task_queue, localstripe, link=link),
        api_client(settings, env.client) as api,
    ):
        await put_settings(api, account, {"auto_top_up": TOP_UP})
        break_link(link, fault)
        spent = await send(api, account, 30)  # 120 of 200 credits: 80 left, below 100
        assert spent.status_code == 200, spent.text
        (top_up,) = top_ups(sqlite_sessions, account.account_id)
        handle = env.client.get_workflow_handle(
            top_up_workflow_id(account.account_id, top_up.top_up_id), result_type=TopUpOutcome
        )
        await env.sleep(PAST_THE_BOUND)
        assert "payment outcome unknown since" in await details(handle)
        (still,) = top_ups(sqlite_sessions, account.account_id)
        assert still.status == TopUpStatus.IN_FLIGHT.value
        link.down.clear()
        await janitor_sweep(env.client, settings.sms_task_queue)
        await env.sleep(NEXT_READ)
        outcome = await handle.result()
        feed = {event["type"]: event["data"] for event in await events(api, account)}
    intents = intents_of(localstripe, account.account_id)
    if fault == "answer_lost":
        assert outcome.status is TopUpStatus.COMPLETED and outcome.credits == 500
        assert [i.status for i in intents] == ["succeeded"]
        assert "top_up.completed" in feed
    else:
        assert outcome.status is TopUpStatus.DECLINED and intents == []
        assert "could not be reached; nothing was charged" in feed["top_up.declined"]["reason"]
    assert not pending(sqlite_sessions, account.account_id)
    check_money(sqlite_sessions, account.account_id)

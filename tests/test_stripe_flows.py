"""The real workflows and worker with the Stripe gateway on localstripe: a purchase, a
decline, a refund (grant failed for good), the monthly renewal and a dunning retry,
each leaving exactly the PaymentIntents and Refunds it should on Stripe's side. Also
the janitor workflow, run as its schedule runs it."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

import worker
from activities import all_activities
from activities.deps import ActivityDeps
from config.payment_janitor import ensure_payment_janitor
from contracts.payment_janitor import (
    PAYMENT_JANITOR_SCHEDULE,
    PAYMENT_JANITOR_WORKFLOW,
    JanitorReport,
    JanitorRequest,
)
from contracts.purchase import GrantRequest, payment_key, refund_key
from domain.catalogue import load_catalogue
from domain.enums import AddonStatus, PaymentStatus
from tests.purchase_support import open_shop
from tests.stripe_support import (
    intents_of,
    metadata,
    refunds_of,
    stripe_gateway,
    stripe_settings,
    stripe_worker,
)
from tests.subscription_support import TIER, subscribed, task_queue
from tests.support import ADMIN_TOKEN, api_client, bearer, settings_for

ADDON = {"type": "addon", "tier": "sms-1000"}
DECLINING = "pm_card_chargeCustomerFail"


async def test_a_purchase_is_one_succeeded_intent(
    time_skipping_env, sqlite_sessions, sqlite_url, localstripe
):
    env = time_skipping_env
    async with (
        open_shop(
            env, sqlite_sessions, sqlite_url, worker=False, **stripe_settings(localstripe)
        ) as shop,
        stripe_worker(env.client, sqlite_sessions, shop.task_queue, localstripe),
    ):
        done = await shop.bought(ADDON)
        (payment,) = (await shop.get("/payments"))["payments"]
    assert payment["status"] == "succeeded"
    (intent,) = intents_of(localstripe, shop.account_id)
    assert payment["provider_ref"] == intent.id and intent.id.startswith("pi_")
    assert (intent.status, intent.amount, intent.currency) == (
        "succeeded",
        done["payment"]["amount_minor"],
        "usd",
    )
    assert metadata(intent.metadata)["payment_key"] == payment_key(done["purchase_id"])
    assert shop.balance() == 1000


async def test_a_declined_purchase_carries_stripes_reason(
    time_skipping_env, sqlite_sessions, sqlite_url, localstripe
):
    env = time_skipping_env
    async with (
        open_shop(
            env,
            sqlite_sessions,
            sqlite_url,
            worker=False,
            payment_method=DECLINING,
            **stripe_settings(localstripe),
        ) as shop,
        stripe_worker(env.client, sqlite_sessions, shop.task_queue, localstripe),
    ):
        quote = (await shop.buy(ADDON)).json()
        declined = await shop.confirm(quote["purchase_id"])
        (payment,) = (await shop.get("/payments"))["payments"]
    assert declined.status_code == 402, declined.text
    assert declined.json()["error"]["code"] == "payment_declined"
    assert (payment["status"], payment["decline_reason"]) == (
        "declined",
        "Your card was declined. (card_declined)",
    )
    (intent,) = intents_of(localstripe, shop.account_id)
    assert (intent.id, intent.status) == (payment["provider_ref"], "requires_payment_method")
    assert shop.balance() == 0


@activity.defn(name="grant_purchase")
def grant_fails_for_good(_: GrantRequest) -> None:
    raise ApplicationError("the ledger refused the grant", type="grant_failed", non_retryable=True)


async def test_a_grant_that_fails_for_good_is_one_stripe_refund(
    time_skipping_env, sqlite_sessions, sqlite_url, localstripe
):
    env = time_skipping_env
    deps = ActivityDeps(
        sessions=sqlite_sessions,
        catalogue=load_catalogue(),
        gateway=stripe_gateway(sqlite_sessions, localstripe),
        client=env.client,
    )
    activities = [a for a in all_activities(deps) if a.__name__ != "grant_purchase"]
    async with open_shop(
        env, sqlite_sessions, sqlite_url, worker=False, **stripe_settings(localstripe)
    ) as shop:
        async with Worker(
            env.client,
            task_queue=shop.task_queue,
            workflows=worker.WORKFLOWS,
            activities=[*activities, grant_fails_for_good],
            activity_executor=ThreadPoolExecutor(4),
        ):
            quote = (await shop.buy(ADDON)).json()
            refunded = await shop.confirm(quote["purchase_id"])
        payments = (await shop.get("/payments"))["payments"]
    assert refunded.json()["status"] == "refunded", refunded.text
    by_kind = {p["kind"]: p for p in payments}
    assert sorted(by_kind) == ["capture", "refund"]
    (intent,) = intents_of(localstripe, shop.account_id)
    assert (intent.id, intent.status) == (by_kind["capture"]["provider_ref"], "succeeded")
    (refund,) = refunds_of(localstripe, intent.id)
    assert refund.id == by_kind["refund"]["provider_ref"] and refund.id.startswith("re_")
    assert (refund.status, refund.amount) == ("succeeded", intent.amount)
    assert metadata(refund.metadata)["payment_key"] == refund_key(quote["purchase_id"])
    assert metadata(refund.metadata)["account_id"] == shop.account_id


async def test_the_monthly_renewal_is_one_intent_per_month(
    time_skipping_env, sqlite_sessions, localstripe
):
    env, queue = time_skipping_env, task_queue()
    async with (
        subscribed(env, sqlite_sessions, "renew", queue=queue, with_worker=False) as sub,
        stripe_worker(env.client, sqlite_sessions, queue, localstripe),
    ):
        await sub.after_boundary(1)
        await sub.after_boundary(2)
        charges = sub.charges()
    assert [c.status for c in charges] == [PaymentStatus.SUCCEEDED] * 2
    intents = {i.id: i for i in intents_of(localstripe, sub.account_id)}
    assert sorted(intents) == sorted(str(c.provider_ref) for c in charges)
    for c in charges:
        intent = intents[str(c.provider_ref)]
        assert (intent.status, intent.amount) == ("succeeded", TIER.monthly_price_minor)
        assert metadata(intent.metadata)["payment_key"] == c.idempotency_key
    assert all(c.idempotency_key.startswith(f"renewal:{sub.account_id}:") for c in charges)


async def test_a_dunning_retry_after_the_card_is_fixed_charges_once(
    time_skipping_env, sqlite_sessions, sqlite_url, localstripe
):
    env, queue = time_skipping_env, task_queue()
    async with (
        subscribed(
            env,
            sqlite_sessions,
            "dunning",
            queue=queue,
            with_worker=False,
            payment_method=DECLINING,
        ) as sub,
        stripe_worker(env.client, sqlite_sessions, queue, localstripe),
    ):
        await sub.after_boundary(1)
        assert sub.addon().status == AddonStatus.PAST_DUE
        async with api_client(settings_for(sqlite_url), env.client) as api:
            fixed = await api.put(
                f"/v1/admin/accounts/{sub.account_id}",
                json={"payment_method": "pm_card_visa"},
                headers=bearer(ADMIN_TOKEN),
            )
            assert fixed.status_code == 200, fixed.text
        await env.sleep(timedelta(minutes=5))
        assert sub.addon().status == AddonStatus.ACTIVE
        charges = sub.charges()
    assert [c.status for c in charges] == [PaymentStatus.DECLINED, PaymentStatus.SUCCEEDED]
    intents = {i.id: i for i in intents_of(localstripe, sub.account_id)}
    declined, paid = (intents[str(c.provider_ref)] for c in charges)
    assert len(intents) == 2
    assert (declined.status, paid.status) == ("requires_payment_method", "succeeded")
    assert metadata(paid.metadata)["payment_key"] == charges[1].idempotency_key
    assert declined.payment_method != paid.payment_method  # the new card, attached


async def test_the_janitor_workflow_sweeps_through_the_worker(
    time_skipping_env, sqlite_sessions, localstripe
):
    env, queue = time_skipping_env, task_queue()
    async with stripe_worker(env.client, sqlite_sessions, queue, localstripe):
        report = await env.client.execute_workflow(
            PAYMENT_JANITOR_WORKFLOW,
            JanitorRequest(older_than_seconds=60),
            id=f"janitor-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            result_type=JanitorReport,
        )
    assert report == JanitorReport()  # nothing stale in a fresh database


async def test_the_worker_keeps_the_janitor_schedule_as_configured(dev_env, localstripe):
    client = dev_env.client
    sandbox = settings_for("sqlite://")
    await ensure_payment_janitor(client, sandbox)
    assert PAYMENT_JANITOR_SCHEDULE not in [s.id async for s in await client.list_schedules()]

    configured = settings_for("sqlite://", **stripe_settings(localstripe))
    await ensure_payment_janitor(client, configured)
    handle = client.get_schedule_handle(PAYMENT_JANITOR_SCHEDULE)
    try:
        changed = configured.model_copy(update={"sms_payment_janitor_every_seconds": 60})
        await ensure_payment_janitor(client, changed)  # a second worker, newer settings
        described = await handle.describe()
        assert [i.every for i in described.schedule.spec.intervals] == [timedelta(seconds=60)]
    finally:
        await handle.delete()

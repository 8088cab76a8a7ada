"""Exactly once under faults: a worker killed between capture and grant, and a grant
that fails for good after the money was taken (refund)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from temporalio import activity
from temporalio.exceptions import ApplicationError

import worker
from contracts.purchase import GrantRequest
from tests.crashing_worker import READY
from tests.purchase_support import open_shop
from tests.support import activity_deps, keep_history, running_worker

ADDON = {"type": "addon", "tier": "sms-1000"}


async def test_worker_killed_after_capture_then_restarted(dev_env, sqlite_sessions, sqlite_url):
    env = dev_env  # real time: the dead worker's attempt must time out for real
    async with open_shop(env, sqlite_sessions, sqlite_url, worker=False) as shop:
        task_queue = shop.task_queue
        doomed = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.crashing_worker",
                env.client.service_client.config.target_host,
                task_queue,
                sqlite_url,
                "grant_purchase",
                "before",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert doomed.stdout is not None
            assert doomed.stdout.readline().strip() == READY
            quote = (await shop.buy(ADDON)).json()
            confirming = asyncio.create_task(shop.confirm(quote["purchase_id"]))
            # The worker captures, then dies as it starts the grant.
            assert await asyncio.to_thread(doomed.wait, 60) == -9
        finally:
            doomed.kill()
        assert shop.counts() == (1, 0)
        async with running_worker(env.client, sqlite_sessions, task_queue):
            # The dead worker's grant attempt times out; the retry reaches this worker.
            done = await asyncio.wait_for(confirming, 60)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "completed"
        assert shop.counts() == (1, 1)
        assert shop.balance() == 1000


@activity.defn(name="grant_purchase")
def grant_fails_for_good(_: GrantRequest) -> None:
    raise ApplicationError("the ledger refused the grant", type="grant_failed", non_retryable=True)


async def test_a_grant_that_fails_for_good_is_refunded(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    env = time_skipping_env
    async with open_shop(env, sqlite_sessions, sqlite_url, worker=False) as shop:
        task_queue = shop.task_queue
        deps = activity_deps(env.client, sqlite_sessions)
        async with worker.build_worker(
            env.client, deps, task_queue, stand_ins=[grant_fails_for_good]
        ):
            quote = (await shop.buy(ADDON)).json()
            refunded = await shop.confirm(quote["purchase_id"])
            await keep_history(shop.handle(quote["purchase_id"]), "purchase/refunded")
        assert refunded.status_code == 200, refunded.text
        body = refunded.json()
        assert body["status"] == "refunded"
        assert body["failure"]["code"] == "grant_failed"
        payments = (await shop.get("/payments"))["payments"]
        assert sorted((p["kind"], p["amount_minor"]) for p in payments) == [
            ("capture", 1800),
            ("refund", 1800),
        ]
        page = await shop.get()
        assert page["addon"]["status"] == "inactive"
        assert page["credits"]["balance"] == 0

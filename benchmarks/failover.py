"""Fail-over: two workers and two API replicas; one worker is SIGKILLed in the middle
of a burst of confirms. Every purchase in flight must still complete, soon after."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from dataclasses import dataclass

import httpx

from benchmarks.load import http_client
from benchmarks.purchases import ADDON, Buyers
from benchmarks.stack import Stack, migrated, seed_buyers

# When the kill lands after the confirms began: in the middle of their captures and grants.
KILL_AFTER_SECONDS = 0.15
# The survivor must have polled before the burst (a worker takes a moment to start).
WARM_UP_SECONDS = 3.0
TASK_QUEUE = "sms-failover"


@dataclass
class Failover:
    in_flight: int  # confirms not answered when the worker died
    completed: int  # of those, answered `completed`
    worst_after_kill_ms: float  # the last of them, after the kill


async def _quote(api: httpx.AsyncClient, account_id: str, token: str) -> tuple[str, str, str]:
    auth = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    quoted = await api.post(f"/v1/accounts/{account_id}/sms/purchases", json=ADDON, headers=auth)
    quoted.raise_for_status()
    return account_id, token, str(quoted.json()["purchase_id"])


async def failover(stack: Stack, url: str, count: int) -> Failover:
    engine = migrated(url)
    buyers = Buyers(seed_buyers(engine, "failover", count))
    engine.dispose()
    # Two workers and two API replicas of their own (a task queue of their own, so the
    # run's other worker, on another database perhaps, takes none of this work).
    stack.start_worker(url, "failover-victim", SMS_TASK_QUEUE=TASK_QUEUE)
    stack.start_worker(url, "failover-survivor", SMS_TASK_QUEUE=TASK_QUEUE)
    first_api = await stack.start_api(url, "failover-api-a", TASK_QUEUE)
    second_api = await stack.start_api(url, "failover-api-b", TASK_QUEUE)
    await asyncio.sleep(WARM_UP_SECONDS)
    victim = next(c for c in stack.children.started if c.name == "failover-victim")
    async with http_client(first_api, count) as a, http_client(second_api, count) as b:
        apis = [a, b]
        quotes = await asyncio.gather(*(_quote(apis[n % 2], *buyers.take()) for n in range(count)))
        ended: dict[str, float] = {}

        async def confirm(n: int, account_id: str, token: str, purchase_id: str) -> bool:
            answer = await apis[n % 2].post(
                f"/v1/accounts/{account_id}/sms/purchases/{purchase_id}/confirm",
                headers={"Authorization": f"Bearer {token}"},
                timeout=60.0,
            )
            ended[purchase_id] = time.perf_counter()
            return answer.status_code == 200 and answer.json().get("status") == "completed"

        confirming = [asyncio.create_task(confirm(n, *quote)) for n, quote in enumerate(quotes)]
        await asyncio.sleep(KILL_AFTER_SECONDS)
        killed_at = time.perf_counter()
        os.kill(victim.process.pid, signal.SIGKILL)
        answered_before = set(ended)
        outcomes = await asyncio.gather(*confirming)
    in_flight = [q[2] for q in quotes if q[2] not in answered_before]
    completed = sum(
        1 for quote, ok in zip(quotes, outcomes, strict=True) if ok and quote[2] in in_flight
    )
    worst = max((ended[p] - killed_at for p in in_flight), default=0.0) * 1000
    return Failover(len(in_flight), completed, worst)

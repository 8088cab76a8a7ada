"""Purchases through the real API and worker: quote (Add to plan) then confirm."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field

import httpx

from benchmarks.load import Measured, closed_loop, http_client

ADDON = {"item": {"type": "addon", "tier": "sms-1000"}}


@dataclass
class PurchaseTimes:
    quote: Measured = field(default_factory=Measured)
    confirm: Measured = field(default_factory=Measured)
    whole: Measured = field(default_factory=Measured)

    def add(self, other: PurchaseTimes) -> None:
        for mine, theirs in zip(
            (self.quote, self.confirm, self.whole),
            (other.quote, other.confirm, other.whole),
            strict=True,
        ):
            mine.add(theirs)


class Buyers:
    """Accounts that have not bought the add-on yet, handed out once each."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self._left = list(tokens.items())

    def take(self) -> tuple[str, str]:
        return self._left.pop()


async def _buy(api: httpx.AsyncClient, buyers: Buyers, times: PurchaseTimes) -> bool:
    account_id, token = buyers.take()
    auth = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    quoted = await api.post(
        f"/v1/accounts/{account_id}/sms/purchases",
        json=ADDON,
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    if quoted.status_code != 201:
        return False
    middle = time.perf_counter()
    purchase_id = quoted.json()["purchase_id"]
    confirmed = await api.post(
        f"/v1/accounts/{account_id}/sms/purchases/{purchase_id}/confirm", headers=auth
    )
    ended = time.perf_counter()
    if confirmed.status_code != 200 or confirmed.json().get("status") != "completed":
        return False
    times.quote.latencies.append((middle - started) * 1000)
    times.confirm.latencies.append((ended - middle) * 1000)
    times.whole.latencies.append((ended - started) * 1000)
    return True


async def _failing_as_false(request: Awaitable[bool]) -> bool:
    try:
        return await request
    except httpx.HTTPError:
        return False


async def concurrent_purchases(
    api_url: str, buyers: Buyers, runs: int, concurrency: int
) -> PurchaseTimes:
    times = PurchaseTimes()
    async with http_client(api_url, concurrency) as api:
        run = await closed_loop(concurrency, runs, lambda _n: _buy(api, buyers, times))
    times.whole.elapsed = run.elapsed
    times.whole.failures = run.failures
    return times


async def steady_purchases(
    api_url: str, buyers: Buyers, per_second: float, seconds: float
) -> PurchaseTimes:
    """Open loop: a new purchase every 1/per_second s whatever the earlier ones do."""
    times = PurchaseTimes()
    count = int(per_second * seconds)
    async with http_client(api_url, 64) as api:
        started = time.perf_counter()
        tasks = []
        for n in range(count):
            delay = started + n / per_second - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_failing_as_false(_buy(api, buyers, times))))
        outcomes = await asyncio.gather(*tasks)
    times.whole.elapsed = time.perf_counter() - started
    times.whole.failures = outcomes.count(False)
    return times

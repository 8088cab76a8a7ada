"""How long one purchase takes through the real API, worker and dev server.

Runs N purchases (quote, then confirm: capture, grant, subscription start) on a
fresh in-memory Temporal dev server twice: with the server's default history
poll rates, and with the raised rates that `make run` uses (DESIGN.md §6). Prints
the median and p95 of each step and the ratio of the two configurations.

    .venv/bin/python -m benchmarks.purchase_latency [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import DEV_SERVER_ARGS
from tests.purchase_support import open_shop
from tests.servers import start_dev_server
from tests.support import migrated_engine, session_factory

ADDON = {"type": "addon", "tier": "sms-1000"}


async def measure(extra_args: list[str], runs: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"quote": [], "confirm": []}
    env = await start_dev_server(extra_args)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = migrated_engine(url)
        sessions = session_factory(engine)
        try:
            for _ in range(runs):
                async with open_shop(env, sessions, url) as shop:
                    started = time.perf_counter()
                    quote = await shop.buy(ADDON)
                    quoted = time.perf_counter()
                    done = await shop.confirm(quote.json()["purchase_id"])
                    confirmed = time.perf_counter()
                    assert done.json()["status"] == "completed", done.text
                timings["quote"].append((quoted - started) * 1000)
                timings["confirm"].append((confirmed - quoted) * 1000)
        finally:
            engine.dispose()
            await env.shutdown()
    return timings


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def main(runs: int) -> None:
    results = {
        "default poll rates": await measure([], runs),
        "raised poll rates": await measure(DEV_SERVER_ARGS, runs),
    }
    print(f"{runs} purchases each (ms)            median     p95")
    for name, timings in results.items():
        for step, values in timings.items():
            median, p95 = summary(values)
            print(f"  {name:20} {step:8} {median:8.1f} {p95:8.1f}")
    for step in ("quote", "confirm"):
        base = statistics.median(results["default poll rates"][step])
        tuned = statistics.median(results["raised poll rates"][step])
        print(f"  {step}: raised / default = {tuned / base:.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))

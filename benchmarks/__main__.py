"""`make bench`: every scenario of issue 13 through the real HTTP API and worker, each
beside its reference in the same run, printed as one table.

    .venv/bin/python -m benchmarks            # SQLite (+ PostgreSQL if BENCH_DATABASE_URL)

Starts the Temporal dev server (from the wheel, raised poll rates as `make run`),
the worker and the API as separate processes on free loopback ports, with their
state and logs in a temporary directory, and stops them all at the end.
BENCH_STEADY_SECONDS (default 20) sets how long purchases arrive at 5/s;
BENCH_STORM_SIZE (default 2,000) how many subscriptions renew at one instant and
BENCH_STORM_WORKERS (default 2) by how many worker processes (on the time-skipping
test server; see benchmarks/renewals.py), the rate taken to 10,000.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bare_workflow import bare_workflows
from benchmarks.debits import (
    BATCH_SIZE,
    http_batches,
    http_debits,
    ledger_problems,
)
from benchmarks.failover import failover
from benchmarks.purchases import Buyers, concurrent_purchases, steady_purchases
from benchmarks.references import raw_batches, raw_debits
from benchmarks.renewals import renewal_storm
from benchmarks.stack import Stack, migrated, postgres_schema, seed_buyers, seed_spenders
from worker import Capacity

DEBITS = 4000
BATCHES = 20
SINGLE_PURCHASES = 10
CONCURRENT_PURCHASES = 48
# Confirms in flight when a worker is killed (fail-over).
FAILOVER_PURCHASES = 16
# The renewal storm: more subscriptions than a worker caches (so evicted ones reload, as
# at 10,000), renewed by worker processes of their own.
STORM_SIZE = 2000
STORM_WORKERS = 2


@dataclass
class Row:
    figure: str
    value: float
    unit: str
    reference: float | None
    target: str
    passed: bool | None

    def cells(self) -> list[str]:
        ratio = f"{self.value / self.reference:.2f}×" if self.reference else "—"
        reference = "—" if self.reference is None else f"{self.reference:,.1f}"
        verdict = {True: "pass", False: "FAIL", None: "—"}[self.passed]
        return [
            self.figure,
            f"{self.value:,.1f} {self.unit}",
            reference,
            ratio,
            self.target,
            verdict,
        ]


def table(rows: list[Row]) -> str:
    header = ["figure", "measured", "reference", "ratio", "target", "result"]
    lines = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


async def debit_rows(stack: Stack, url: str, label: str, rate: int, p99: float) -> list[Row]:
    engine = migrated(url)
    tokens = seed_spenders(engine, f"spend-{label.lower()}", 20, 10**8)
    reference_accounts = list(seed_spenders(engine, f"ref-{label.lower()}", 20, 10**8))
    api = await stack.start_api(url, f"api-{label}")
    await http_debits(api, tokens, 300)  # warm-up: connections, caches
    api_cpu, own_cpu = stack.cpu_seconds(f"api-{label}"), _own_cpu()
    measured = await http_debits(api, tokens, DEBITS)
    done = max(1, len(measured.latencies))
    api_cpu = (stack.cpu_seconds(f"api-{label}") - api_cpu) / done * 1000
    own_cpu = (_own_cpu() - own_cpu) / done * 1000
    reference = raw_debits(url, reference_accounts, DEBITS)
    rows = [
        Row(
            f"{label}: debits/s, 16 clients",
            measured.rate,
            "/s",
            reference.rate,
            f"≥ {rate}",
            measured.rate >= rate,
        ),
        Row(
            f"{label}: debit p50",
            measured.percentile(50),
            "ms",
            reference.percentile(50),
            "—",
            None,
        ),
        Row(
            f"{label}: debit p99",
            measured.percentile(99),
            "ms",
            reference.percentile(99),
            f"≤ {p99:g} ms",
            measured.percentile(99) <= p99,
        ),
    ]
    rows.append(Row(f"{label}: API process CPU per debit", api_cpu, "ms", None, "—", None))
    rows.append(Row(f"{label}: load generator CPU per debit", own_cpu, "ms", None, "—", None))
    if label == "SQLite":
        batches = await http_batches(api, tokens, BATCHES)
        raw = raw_batches(engine, reference_accounts, BATCHES, BATCH_SIZE)
        per_second = len(batches.latencies) * BATCH_SIZE / batches.elapsed
        raw_rate = BATCHES * BATCH_SIZE / raw.elapsed
        rows.append(
            Row(
                f"{label}: batch messages/s (1,000 a call)",
                per_second,
                "/s",
                raw_rate,
                "≥ 20000",
                per_second >= 20_000,
            )
        )
    problems = ledger_problems(engine, [*tokens, *reference_accounts])
    lost = measured.failures + len(problems)
    rows.append(
        Row(f"{label}: ledger = balance = grants, failed sends", lost, "", None, "0", lost == 0)
    )
    for problem in problems:
        print("  ledger:", problem)
    engine.dispose()
    return rows


async def purchase_rows(stack: Stack, url: str, steady_seconds: float) -> list[Row]:
    engine = migrated(url)
    buyers = Buyers(
        seed_buyers(
            engine, "buyer", SINGLE_PURCHASES + CONCURRENT_PURCHASES + int(5 * steady_seconds) + 2
        )
    )
    api = await stack.start_api(url, "api-purchases")
    client = stack.temporal_client
    await concurrent_purchases(api, buyers, 2, 1)  # warm-up
    single = await concurrent_purchases(api, buyers, SINGLE_PURCHASES, 1)
    bare_single = await bare_workflows(client, SINGLE_PURCHASES, 1)
    many = await concurrent_purchases(api, buyers, CONCURRENT_PURCHASES, 16)
    bare_many = await bare_workflows(client, CONCURRENT_PURCHASES, 16)
    steady = await steady_purchases(api, buyers, 5.0, steady_seconds)
    many_rate = len(many.whole.latencies) / many.whole.elapsed
    engine.dispose()
    return [
        Row(
            "purchase alone: quote p50",
            single.quote.percentile(50),
            "ms",
            None,
            "≤ 60 ms",
            single.quote.percentile(50) <= 60,
        ),
        Row(
            "purchase alone: confirm p50",
            single.confirm.percentile(50),
            "ms",
            None,
            "≤ 100 ms",
            single.confirm.percentile(50) <= 100,
        ),
        Row(
            "purchase alone: quote+confirm p50 vs bare 4-activity wf",
            single.whole.percentile(50),
            "ms",
            bare_single.percentile(50),
            "—",
            None,
        ),
        Row(
            "16 concurrent buyers: purchases/s",
            many_rate,
            "/s",
            bare_many.rate,
            "≥ 0.8× ref",
            many_rate >= 0.8 * bare_many.rate,
        ),
        Row(
            f"steady 5/s for {steady_seconds:g} s: quote p99",
            steady.quote.percentile(99),
            "ms",
            None,
            "≤ 250 ms",
            steady.quote.percentile(99) <= 250,
        ),
        Row(
            f"steady 5/s for {steady_seconds:g} s: confirm p99",
            steady.confirm.percentile(99),
            "ms",
            None,
            "≤ 400 ms",
            steady.confirm.percentile(99) <= 400,
        ),
        Row(
            "purchases that failed",
            many.whole.failures + steady.whole.failures + single.whole.failures,
            "",
            None,
            "0",
            many.whole.failures + steady.whole.failures + single.whole.failures == 0,
        ),
    ]


async def failover_rows(stack: Stack, url: str, label: str) -> list[Row]:
    result = await failover(stack, url, FAILOVER_PURCHASES)
    return [
        Row(
            f"fail-over ({label}): {result.in_flight} confirms in flight, a worker SIGKILLed",
            result.worst_after_kill_ms,
            "ms",
            None,
            "≤ 3000 ms",
            result.worst_after_kill_ms <= 3000,
        ),
        Row(
            "  of them completed (2 workers, 2 API replicas)",
            result.completed,
            "",
            None,
            "all",
            result.completed == result.in_flight,
        ),
    ]


async def storm_rows(folder: Path, count: int, workers: int) -> list[Row]:
    storm = await renewal_storm(folder, count, workers)
    at_scale = 10_000 / storm.rate if storm.rate else float("inf")
    exact = storm.renewed == storm.charges == storm.gateway_calls == count
    return [
        Row(
            f"renewal storm, {count} due at once, {workers} worker processes: renewals/s",
            storm.rate,
            "/s",
            None,
            "≥ 56",
            storm.rate >= 10_000 / 180,
        ),
        Row("  → 10,000 renewals at that rate", at_scale, "s", None, "≤ 180 s", at_scale <= 180),
        Row("  worker CPU per renewal (all workers)", storm.worker_cpu_ms, "ms", None, "—", None),
        Row("  test server CPU per renewal", storm.server_cpu_ms, "ms", None, "—", None),
        Row(
            "  renewals not done, charged ≠ once or gateway calls ≠ one each",
            (count - storm.renewed)
            + abs(storm.charges - storm.renewed)
            + abs(storm.gateway_calls - storm.renewed),
            "",
            None,
            "0",
            exact,
        ),
        Row(
            f"  worker peak RSS, {count} open ({Capacity().cached_workflows} cached at most)",
            storm.peak_rss_mb,
            "MB",
            None,
            "≤ 300 MB",
            storm.peak_rss_mb <= 300,
        ),
    ]


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at start {load[0]:.2f}"
    )


async def main() -> None:
    started = time.monotonic()
    steady_seconds = float(os.environ.get("BENCH_STEADY_SECONDS", "20"))
    pg_url = os.environ.get("BENCH_DATABASE_URL")
    print(f"make bench on {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="sms-bench-") as folder:
        stack = Stack(Path(folder))
        try:
            await stack.start_temporal()
            sqlite_url = f"sqlite:///{Path(folder) / 'bench.db'}"
            migrated(sqlite_url).dispose()
            stack.start_worker(sqlite_url)
            rows = await debit_rows(stack, sqlite_url, "SQLite", 1000, 20)
            print(table(rows), flush=True)
            if pg_url:
                with postgres_schema(pg_url) as url:
                    rows += await debit_rows(stack, url, "PostgreSQL", 500, 50)
            else:
                print("(BENCH_DATABASE_URL not set: PostgreSQL scenarios skipped)")
            rows += await purchase_rows(stack, sqlite_url, steady_seconds)
            # Kills a worker (of its own): runs last. On PostgreSQL, as issue 13 asks, when set.
            if pg_url:
                with postgres_schema(pg_url) as url:
                    rows += await failover_rows(stack, url, "PostgreSQL")
            else:
                rows += await failover_rows(stack, sqlite_url, "SQLite")
            rows += await storm_rows(
                Path(folder) / "storm",
                int(os.environ.get("BENCH_STORM_SIZE", str(STORM_SIZE))),
                int(os.environ.get("BENCH_STORM_WORKERS", str(STORM_WORKERS))),
            )
        finally:
            stack.stop()
    print()
    print(table(rows))
    print(
        f"\n{machine()}; took {time.monotonic() - started:.0f} s. Reference = same-shape raw "
        "DB transactions (debits, one commit each; batch, one per 1,000) or a bare "
        "4-activity workflow on the same Temporal server (purchases)."
    )


if __name__ == "__main__":
    asyncio.run(main())

"""`make bench`: every hot path through the real HTTP API and worker, each beside its
reference in the same run, printed as one table of ratios with pass/FAIL.

    .venv/bin/python -m benchmarks            # SQLite (+ PostgreSQL if BENCH_DATABASE_URL)

Starts the Temporal dev server (from the wheel, raised poll rates as `make run`),
the worker and the API as separate processes on free loopback ports, with their
state and logs in a temporary directory, and stops them all at the end.
BENCH_STEADY_SECONDS (default 60) sets how long purchases arrive at half the measured
burst rate; BENCH_STORM_SIZE (default 2,000) how many subscriptions renew at one
instant and BENCH_STORM_WORKERS (default 2) by how many worker processes (on the
time-skipping test server; see benchmarks/renewals.py). BENCH_SCENARIOS (default all)
runs only the scenarios it names, comma-separated, from debits, purchases, failover and
storm: `BENCH_SCENARIOS=purchases BENCH_STEADY_SECONDS=40` measures purchases alone and
steady arrivals in about 75 s (the run names its scenarios when it starts).
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from pathlib import Path

from benchmarks.rows import debit_rows, failover_rows, purchase_rows, storm_rows
from benchmarks.stack import Stack, migrated, postgres_schema
from benchmarks.table import Row, table, verdict

STEADY_SECONDS = 60
# The renewal storm: more subscriptions than a worker caches (so evicted ones reload, as
# at 10,000), renewed by worker processes of their own.
STORM_SIZE = 2000
STORM_WORKERS = 2
SCENARIOS = ("debits", "purchases", "failover", "storm")


def chosen_scenarios() -> set[str]:
    """BENCH_SCENARIOS' names (all when unset); an unknown name stops the run at once."""
    named = os.environ.get("BENCH_SCENARIOS", "").replace(" ", "")
    chosen = set(named.split(",")) - {""} if named else set(SCENARIOS)
    if unknown := chosen - set(SCENARIOS):
        raise SystemExit(f"BENCH_SCENARIOS: unknown {sorted(unknown)}; choose from {SCENARIOS}")
    return chosen


def machine() -> str:
    """Where the run ran: the ratios hold across machines, the absolute figures do not."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return (
        f"{platform.machine()} {model}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {_load()}"
    )


def _shown(rows: list[Row]) -> list[Row]:
    """Each scenario's rows as soon as they are measured, with the load they ran at."""
    print(table(rows), f"\n(load average {_load()})", flush=True)
    return rows


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def _on_the_stack(
    stack: Stack, scenarios: set[str], steady_seconds: float, pg_url: str | None
) -> list[Row]:
    """The chosen scenarios that run on the dev server, one worker and the API."""
    rows: list[Row] = []
    await stack.start_temporal()
    sqlite_url = f"sqlite:///{stack.folder / 'bench.db'}"
    migrated(sqlite_url).dispose()
    stack.start_worker(sqlite_url)
    if "debits" in scenarios:
        rows += _shown(await debit_rows(stack, sqlite_url, "SQLite"))
        if pg_url:
            with postgres_schema(pg_url) as url:
                rows += _shown(await debit_rows(stack, url, "PostgreSQL"))
        else:
            print("(BENCH_DATABASE_URL not set: PostgreSQL scenarios skipped)")
    if "purchases" in scenarios:
        rows += _shown(await purchase_rows(stack, sqlite_url, steady_seconds))
    # Kills a worker (of its own): after the scenarios that need the run's worker.
    # On PostgreSQL when it is set.
    if "failover" in scenarios and pg_url:
        with postgres_schema(pg_url) as url:
            rows += _shown(await failover_rows(stack, url, "PostgreSQL"))
    elif "failover" in scenarios:
        rows += _shown(await failover_rows(stack, sqlite_url, "SQLite"))
    return rows


async def main() -> None:
    started = time.monotonic()
    steady_seconds = float(os.environ.get("BENCH_STEADY_SECONDS", str(STEADY_SECONDS)))
    pg_url = os.environ.get("BENCH_DATABASE_URL")
    print(f"make bench on {machine()}", flush=True)
    scenarios = chosen_scenarios()
    if scenarios != set(SCENARIOS):
        print(f"BENCH_SCENARIOS: only {', '.join(s for s in SCENARIOS if s in scenarios)}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="sms-bench-") as folder:
        stack = Stack(Path(folder))
        try:
            if scenarios & {"debits", "purchases", "failover"}:
                rows += await _on_the_stack(stack, scenarios, steady_seconds, pg_url)
            stack.stop()  # the storm has its own server and workers: leave it the cores
            if "storm" in scenarios:
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
        f"\n{verdict(rows)}.\n{machine()} at the end; took {time.monotonic() - started:.0f} s.\n"
        "References, same run: raw DBAPI transactions of a debit's shape, one commit each "
        "(16 threads), and one per 1,000-message batch; a bare 4-activity workflow on the "
        "same Temporal server (purchases); the quote and confirm p50 of a purchase alone "
        "(steady arrivals); bare subscription workflows on the same test server, one local "
        "activity writing a keyed grant and payment (renewal storm)."
    )


if __name__ == "__main__":
    asyncio.run(main())

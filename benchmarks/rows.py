"""Each scenario run beside its reference, as rows of the table (benchmarks/table.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bare_workflow import bare_workflows
from benchmarks.debits import BATCH_SIZE, http_batches, http_debits, ledger_problems
from benchmarks.failover import failover
from benchmarks.load import Measured
from benchmarks.purchases import Buyers, PurchaseTimes, concurrent_purchases, steady_purchases
from benchmarks.references import raw_batches, raw_debits
from benchmarks.renewals import renewal_storm
from benchmarks.stack import CpuShare, Stack, cpu_share, migrated, seed_buyers, seed_spenders
from benchmarks.table import Row, at_least, at_most, info, within
from worker import Capacity

DEBITS = 4000
WARM_UP_DEBITS = 300
BATCHES = 20
SINGLE_PURCHASES = 16
CONCURRENT_PURCHASES = 64
ROUNDS = 2
BUYERS = 16
# Confirms in flight when a worker is killed (fail-over).
FAILOVER_PURCHASES = 16
# The targets, each a ratio to the reference beside it (absolute only where the
# figure is a timeout, a count that must be zero, or memory).
DEBIT_RATE, DEBIT_P99 = 0.5, 2.0
BATCH_RATE = 0.3
ALONE_P50 = 1.1
BUYERS_RATE = 0.9
STEADY_SHARE_OF_BURST, STEADY_P99_OF_ALONE_P50 = 0.5, 3.0
FAILOVER_MS = 3000
STORM_RATE = 0.7
WORKER_PEAK_RSS_MB = 300


@dataclass
class _Debits:
    measured: Measured
    api_cpu_ms: float
    client_cpu_ms: float
    busy: CpuShare


async def _debits_through(stack: Stack, api: str, name: str, tokens: dict[str, str]) -> _Debits:
    await http_debits(api, tokens, WARM_UP_DEBITS)  # connections, caches
    api_cpu, own_cpu = stack.cpu_seconds(name), _own_cpu()
    with cpu_share() as busy:
        measured = await http_debits(api, tokens, DEBITS)
    done = max(1, len(measured.latencies)) / 1000
    return _Debits(
        measured, (stack.cpu_seconds(name) - api_cpu) / done, (_own_cpu() - own_cpu) / done, busy
    )


async def debit_rows(stack: Stack, url: str, label: str) -> list[Row]:
    """Single sends through 1 and 2 API processes, then batches, beside raw transactions."""
    engine = migrated(url)
    tokens = seed_spenders(engine, f"spend-{label.lower()}", 20, 10**8)
    reference_accounts = list(seed_spenders(engine, f"ref-{label.lower()}", 20, 10**8))
    own_cpu = _own_cpu()
    raw = raw_debits(url, reference_accounts, DEBITS)
    raw_cpu_ms = (_own_cpu() - own_cpu) / len(raw.latencies) * 1000
    rows: list[Row] = []
    failures = 0
    for processes in (1, 2):
        name = f"api-{label}-{processes}"
        api = await stack.start_api(url, name, processes=processes)
        run = await _debits_through(stack, api, name, tokens)
        failures += run.measured.failures
        of = f"{label}, {processes} API process{'es' if processes > 1 else ''}"
        rows += [
            at_least(f"{of}: debits/s, 16 clients", run.measured.rate, "/s", raw.rate, DEBIT_RATE),
            info(f"{of}: debit p50", run.measured.percentile(50), "ms", raw.percentile(50)),
            at_most(
                f"{of}: debit p99",
                run.measured.percentile(99),
                "ms",
                raw.percentile(99),
                DEBIT_P99,
            ),
            info(f"{of}: API CPU per debit (ref: raw's)", run.api_cpu_ms, "ms", raw_cpu_ms),
            info(f"{of}: load generator CPU per debit", run.client_cpu_ms, "ms"),
            info(f"{of}: machine's cores busy (all work)", run.busy.machine * 100, "%"),
            info(f"{of}: cores busy with the bench's processes", run.busy.ours * 100, "%"),
        ]
        if processes == 1:
            batches = await http_batches(api, tokens, BATCHES)
            raw_batch = raw_batches(engine, reference_accounts, BATCHES, BATCH_SIZE)
            rows.append(
                at_least(
                    f"{label}: batch messages/s (1,000 a call)",
                    len(batches.latencies) * BATCH_SIZE / batches.elapsed,
                    "/s",
                    BATCHES * BATCH_SIZE / raw_batch.elapsed,
                    BATCH_RATE,
                )
            )
            failures += batches.failures
        stack.stop_children(name)
    problems = ledger_problems(engine, [*tokens, *reference_accounts])
    for problem in problems:
        print("  ledger:", problem)
    rows.append(
        within(f"{label}: ledger ≠ balance ≠ grants, failed sends", failures + len(problems), "", 0)
    )
    engine.dispose()
    return rows


async def purchase_rows(stack: Stack, url: str, steady_seconds: float) -> list[Row]:
    """Purchases alone, 16 at once and arriving steadily, beside the bare 4-activity workflow."""
    engine = migrated(url)
    buyers = Buyers(seed_buyers(engine, "buyer", 2 + SINGLE_PURCHASES + CONCURRENT_PURCHASES))
    api = await stack.start_api(url, "api-purchases")
    client = stack.temporal_client
    await concurrent_purchases(api, buyers, 2, 1)  # warm-up
    alone, bare_alone = PurchaseTimes(), Measured()
    many, bare_many = PurchaseTimes(), Measured()
    # In rounds, the project's and the reference's turns alternating, so that a change
    # in the machine's load during the run falls on both sides alike.
    for _ in range(ROUNDS):
        alone.add(await concurrent_purchases(api, buyers, SINGLE_PURCHASES // ROUNDS, 1))
        bare_alone.add(await bare_workflows(client, SINGLE_PURCHASES // ROUNDS, 1))
        many.add(await concurrent_purchases(api, buyers, CONCURRENT_PURCHASES // ROUNDS, BUYERS))
        bare_many.add(await bare_workflows(client, CONCURRENT_PURCHASES // ROUNDS, BUYERS))
    burst = many.whole.rate
    steady_rate = STEADY_SHARE_OF_BURST * burst
    steady_buyers = seed_buyers(engine, "steady", int(steady_rate * steady_seconds) + 1)
    with cpu_share() as busy:
        steady = await steady_purchases(api, Buyers(steady_buyers), steady_rate, steady_seconds)
    engine.dispose()
    stack.stop_children("api-purchases")
    failed = alone.whole.failures + many.whole.failures + steady.whole.failures
    steadily = f"steady {steady_rate:.1f}/s (½ the burst) for {steady_seconds:g} s"
    return [
        info("purchase alone: quote p50", alone.quote.percentile(50), "ms"),
        info("purchase alone: confirm p50", alone.confirm.percentile(50), "ms"),
        at_most(
            "purchase alone: quote + confirm p50 (ref: bare 4-activity workflow)",
            alone.whole.percentile(50),
            "ms",
            bare_alone.percentile(50),
            ALONE_P50,
        ),
        at_least(
            f"{BUYERS} concurrent buyers: purchases/s (ref: bare workflow)",
            burst,
            "/s",
            bare_many.rate,
            BUYERS_RATE,
        ),
        *(
            at_most(
                f"{steadily}: {step} p99 (ref: {step} p50 alone)",
                under_load.percentile(99),
                "ms",
                by_itself.percentile(50),
                STEADY_P99_OF_ALONE_P50,
            )
            for step, under_load, by_itself in (
                ("quote", steady.quote, alone.quote),
                ("confirm", steady.confirm, alone.confirm),
            )
        ),
        info(f"{steadily}: machine's cores busy (all work)", busy.machine * 100, "%"),
        info(f"{steadily}: cores busy with the bench's processes", busy.ours * 100, "%"),
        within("purchases that failed", failed, "", 0),
    ]


async def failover_rows(stack: Stack, url: str, label: str) -> list[Row]:
    result = await failover(stack, url, FAILOVER_PURCHASES)
    return [
        within(
            f"fail-over ({label}): {result.in_flight} confirms in flight, a worker SIGKILLed",
            result.worst_after_kill_ms,
            "ms",
            FAILOVER_MS,
        ),
        within(
            "  of them not completed (2 workers, 2 API replicas)",
            result.in_flight - result.completed,
            "",
            0,
        ),
    ]


async def storm_rows(folder: Path, count: int, workers: int) -> list[Row]:
    storms = await renewal_storm(folder, count, workers)
    project, bare = storms.project, storms.bare
    print(
        f"  storm: {project.renewed} of {count} renewed in {project.seconds:.0f} s "
        f"(limit {storms.time_limit:.0f} s), {project.charges} charges, "
        f"{project.gateway_calls} gateway calls; bare reference: {bare.renewed} renewed in "
        f"{bare.seconds:.0f} s, {bare.charges} payment rows",
        flush=True,
    )
    # Money: every renewal done and charged once. A gateway call beyond one per charge is
    # an attempt retried under its key (its first ran past its start-to-close while the
    # workers were saturated): the gateway answers the first result, so it is shown,
    # not failed; a second charge would show in the money row.
    wrong = (count - project.renewed) + abs(project.charges - project.renewed)
    wrong += count - bare.renewed
    return [
        at_least(
            f"renewal storm, {count} due at once, {workers} worker processes: renewals/s "
            "(ref: bare subscription workflow)",
            project.rate,
            "/s",
            bare.rate,
            STORM_RATE,
        ),
        info(
            "  worker CPU per renewal (all workers)",
            project.worker_cpu_ms,
            "ms",
            bare.worker_cpu_ms,
        ),
        info("  test server CPU per renewal", project.server_cpu_ms, "ms", bare.server_cpu_ms),
        within("  renewals not done or charged ≠ once", wrong, "", 0),
        info(
            "  gateway calls retried under their key (calls − charges)",
            project.gateway_calls - project.charges,
            "",
        ),
        within(
            f"  worker peak RSS, {count} open ({Capacity().cached_workflows} cached at most)",
            project.peak_rss_mb,
            "MB",
            WORKER_PEAK_RSS_MB,
        ),
    ]


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system

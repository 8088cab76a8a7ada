"""What a renewal storm measures of its processes (benchmarks/renewals.py): the clock
and CPU from the first worker's ready line until every renewal is done, the workers'
RSS, the time-skipping test server's CPU, and how often a worker ran an activity."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from benchmarks.stack import Stack, process_cpu_seconds


def rss_mb(pid: int, field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of process ``pid``, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def time_skipping_server_pid() -> int:
    """The time-skipping test server the SDK started as a child of this process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            name, rest = stat.read_text().rsplit(")", 1)
            if "temporal-test" in name and int(rest.split()[1]) == os.getpid():
                return int(stat.parent.name)
    raise LookupError("the time-skipping test server is not a child of this process")


def activity_executions(metrics_url: str, activity_type: str) -> int:
    """How many times the worker ran ``activity_type`` (the SDK's execution latency count)."""
    with urllib.request.urlopen(metrics_url, timeout=5.0) as answer:
        text = answer.read().decode()
    return sum(
        int(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("temporal_activity_execution_latency")
        and sample.name.endswith("_count")
        and sample.labels.get("activity_type") == activity_type
    )


@dataclass
class WorkerRun:
    """What `run_workers` measured: the renewals done, and the clock and CPU they took."""

    renewed: int
    seconds: float
    worker_cpu_ms: float
    server_cpu_ms: float


async def run_workers(
    stack: Stack,
    names: list[str],
    ready_line: str,
    count: int,
    renewed: Callable[[], int],
    time_limit: float,
) -> WorkerRun:
    """Clock and CPU from the first worker's ready line until ``renewed()`` reaches
    ``count`` (or ``time_limit`` passes)."""
    while not any(stack.says(name, ready_line) for name in names):
        stack.children.check()
        await asyncio.sleep(0.05)
    started = time.monotonic()
    worker_cpu = sum(stack.cpu_seconds(name) for name in names)  # less their start-up
    server = time_skipping_server_pid()
    server_cpu = process_cpu_seconds(server)
    done = 0
    while time.monotonic() - started < time_limit:
        stack.children.check()
        done = renewed()
        if done >= count:
            break
        await asyncio.sleep(0.25)
    seconds = time.monotonic() - started
    per = max(1, done) / 1000
    return WorkerRun(
        renewed=done,
        seconds=seconds,
        worker_cpu_ms=(sum(stack.cpu_seconds(name) for name in names) - worker_cpu) / per,
        server_cpu_ms=(process_cpu_seconds(server) - server_cpu) / per,
    )

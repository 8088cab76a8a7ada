"""The API's ``/metrics`` when it serves from several processes.

Each uvicorn worker process counts its own debits and requests. With more than one,
prometheus_client's multiprocess mode keeps every process's values in files of one
private directory (``PROMETHEUS_MULTIPROC_DIR``, set before the processes start, since
prometheus_client reads it when it is imported), and a scrape, whichever process
answers it, sums them. With one process nothing is shared: the default registry
answers, with the process's own CPU, memory and GC series as well. The worker is
always one process and keeps the default registry (observability/worker_metrics.py).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_between_processes() -> Iterator[None]:
    """Around serving with several processes: their metrics go to a fresh private
    directory (so no earlier run's files are summed in), removed afterwards."""
    folder = tempfile.mkdtemp(prefix="sms-addon-api-metrics-")
    os.environ[MULTIPROCESS_DIR] = folder
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_DIR, None)
        shutil.rmtree(folder, ignore_errors=True)


def in_multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR))


def scrape_registry() -> CollectorRegistry:
    """What ``GET /metrics`` writes: every process's values summed, or this process's."""
    if not in_multiprocess_mode():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def mark_dead_on_exit() -> None:
    """In a worker process: on exit, drop its live-gauge files (its counters stay summed)."""
    if in_multiprocess_mode():
        atexit.register(multiprocess.mark_process_dead, os.getpid())

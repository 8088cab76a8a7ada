"""`sms-addon api --workers 2`: the real command, two API processes sharing one port, each
with its own debit committers. Concurrent sends with repeated Idempotency-Keys, spread
over both processes, on SQLite and PostgreSQL: no lost update, each key debited once,
and `/metrics` sums the two processes' counts."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from tests.ports import free_port
from tests.support import CARRIER_WEBHOOK_SECRET
from tests.test_debit_fast_path import ledger
from tests.test_usage import account_with_user, grant

PROCESSES = 2
READY_LINE = "Application startup complete."
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 20.0
KEYS = 60
SENDS_PER_KEY = 3
CREDITS_PER_SEND = 4  # BR, one recipient, one segment
GRANTED = CREDITS_PER_SEND * (KEYS + 15)
CLIENTS = 16
SEND = {"country": "BR", "recipients": 1, "text": "Flash sale!"}
USAGE_ROUTE = "/v1/accounts/{account_id}/sms/usage"


@pytest.fixture
def two_api_processes(
    database_url: str, engine: Engine, tmp_path: Path
) -> Iterator[tuple[str, int]]:
    """The real `sms-addon api --workers 2` on a reserved loopback port, over the migrated
    database; (its URL, its pid)."""
    port = free_port()
    log_path = tmp_path / "api.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SMS_ADMIN_TOKEN": "test-admin-token-processes",
        "SMS_WEBHOOK_SECRET": CARRIER_WEBHOOK_SECRET,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # debits never reach Temporal
    }
    argv = [sys.executable, "-m", "starter.cli", "api", "--host", "127.0.0.1"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*argv, "--port", str(port), "--workers", str(PROCESSES)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        # Both processes up before any send, so the sends spread over the two.
        while log_path.read_text().count(READY_LINE) < PROCESSES:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _served_by_each(api_pid: int) -> list[float]:
    """Sends each serving process counted, read from its own metric files (named by its
    pid, in the private directory the command made before starting them)."""
    counts: list[float] = []
    for pid in Path(f"/proc/{api_pid}/task/{api_pid}/children").read_text().split():
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        folder = next((v.split(b"=", 1)[1] for v in environ if v.startswith(b"PROMETHEUS_")), b"")
        files = [str(path) for path in Path(folder.decode()).glob(f"*_{pid}.db")] if folder else []
        if not files:  # a helper process of the supervisor's, not a server
            continue
        counts.append(
            sum(
                sample.value
                for family in MultiProcessCollector.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
                for sample in family.samples
                if sample.name == "sms_http_request_duration_seconds_count"
                and sample.labels.get("route") == USAGE_ROUTE
            )
        )
    return counts


async def _send_all(api_url: str, token: str) -> Counter[int]:
    """Every key sent SENDS_PER_KEY times, interleaved, from CLIENTS concurrent clients on
    fresh connections (so the kernel hands them to either process)."""
    keys = [f"key-{n % KEYS}" for n in range(KEYS * SENDS_PER_KEY)]
    statuses: Counter[int] = Counter()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for key in keys:
        queue.put_nowait(key)
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=api_url, limits=limits, timeout=30.0) as api:

        async def client() -> None:
            while not queue.empty():
                key = queue.get_nowait()
                answer = await api.post(
                    "/v1/accounts/acme/sms/usage",
                    json=SEND,
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                )
                statuses[answer.status_code] += 1
                if answer.status_code == 200:
                    assert answer.json()["credits_debited"] == CREDITS_PER_SEND

        await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return statuses


def _metric(text: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


async def test_two_api_processes_debit_each_key_once_and_count_together(
    two_api_processes, sessions
):
    api_url, api_pid = two_api_processes
    token = account_with_user(sessions)
    grant(sessions, "acme", GRANTED)

    statuses = await _send_all(api_url, token)

    # Every send answered: the first of each key debited, its repeats replayed it.
    assert statuses == Counter({200: KEYS * SENDS_PER_KEY})
    balance, total, held, debits = ledger(sessions)
    assert balance == total == held == GRANTED - CREDITS_PER_SEND * KEYS  # no lost update
    assert len(debits) == KEYS and set(debits.values()) == {1}  # each key once

    async with httpx.AsyncClient(base_url=api_url, timeout=10.0) as api:
        scraped = (await api.get("/metrics")).text
    assert _metric(scraped, "sms_credits_debited_total") == CREDITS_PER_SEND * KEYS
    sends = _metric(
        scraped,
        "sms_http_request_duration_seconds_count",
        route=USAGE_ROUTE,
        method="POST",
        status="200",
    )
    assert sends == KEYS * SENDS_PER_KEY
    # That sum is over two processes, each of which served some of the sends.
    served = _served_by_each(api_pid)
    assert len(served) == PROCESSES and all(count > 0 for count in served), served

"""How many sends per second the ledger debits, one transaction each, from 8 threads.

Runs the same load on a fresh SQLite file and, when TEST_DATABASE_URL points at a
PostgreSQL server, on PostgreSQL; prints sends per second and the ratio.

    .venv/bin/python -m benchmarks.send_throughput [SENDS]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from domain.enums import GrantSource
from store.db import transaction
from store.ledger import debit_credits, grant_credits
from tests.support import create_account, fresh_database, migrated_engine, session_factory

THREADS = 8
ACCOUNTS = 4  # sends spread over a few accounts, as real traffic is


def sends_per_second(url: str, sends: int) -> float:
    engine = migrated_engine(url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    accounts = [f"bench-{n}" for n in range(ACCOUNTS)]
    for account_id in accounts:
        create_account(sessions, account_id, anchor=now.date(), now=now)
        with transaction(sessions) as session:
            grant_credits(
                session,
                account_id=account_id,
                source=GrantSource.RENEWAL,
                credits=sends,
                expires_at=now + timedelta(days=30),
                at=now,
                reference="bench",
                key=f"bench-grant:{account_id}",
            )

    def send(n: int) -> None:
        with transaction(sessions) as session:
            debit_credits(
                session,
                account_id=accounts[n % ACCOUNTS],
                credits=1,
                at=now,
                reference="bench send",
                key=f"bench:{uuid.uuid4()}",
            )

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(send, range(sends)))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return sends / elapsed


def main(sends: int) -> None:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else []):
            with fresh_database(kind, Path(folder)) as url:
                results[kind] = sends_per_second(url, sends)
    for kind, rate in results.items():
        print(f"{kind:11} {rate:8.0f} sends/s ({sends} sends, {THREADS} threads)")
    if len(results) == 2:
        print(f"postgresql / sqlite = {results['postgresql'] / results['sqlite']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

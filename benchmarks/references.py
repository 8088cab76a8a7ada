"""The floors each scenario is compared with, run in the same benchmark run:

- a debit as a raw DBAPI transaction of the same shape as the service's (lock the
  account, look the key up, read the spendable grants, update one grant and the
  balance, insert the ledger entry, commit), from 16 threads, one commit each;
- a batch as one raw transaction of 1,000 such debits (executemany);
- a purchase as a bare workflow of four no-op activities on the same Temporal server
  (benchmarks/bare_workflow.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from benchmarks.load import Measured
from store.db import make_engine

THREADS = 16


def _sql(engine: Engine, statement: str) -> str:
    return statement.replace("%s", "?") if engine.dialect.name == "sqlite" else statement


def _at(engine: Engine, when: datetime) -> Any:
    # What SQLAlchemy stores on SQLite: naive UTC text.
    return when.strftime("%Y-%m-%d %H:%M:%S.%f") if engine.dialect.name == "sqlite" else when


def raw_debits(url: str, accounts: list[str], requests: int) -> Measured:
    """``requests`` raw debit transactions of 4 credits from 16 threads."""
    engine = make_engine(url, pool_size=THREADS, max_overflow=0)
    sqlite = engine.dialect.name == "sqlite"
    lock = threading.Lock() if sqlite else None  # SQLite: one writer at a time, queued
    lock_sql = "SELECT credit_balance FROM accounts WHERE id = %s" + (
        "" if sqlite else " FOR UPDATE"
    )
    statements = [
        _sql(engine, s)
        for s in (
            lock_sql,
            "SELECT credits FROM credit_entries WHERE idempotency_key = %s",
            "SELECT id, remaining FROM credit_grants WHERE account_id = %s AND remaining > 0"
            " AND (expires_at IS NULL OR expires_at > %s) ORDER BY expires_at IS NULL,"
            " expires_at, id",
            "UPDATE credit_grants SET remaining = remaining - %s WHERE id = %s",
            "UPDATE accounts SET credit_balance = %s WHERE id = %s",
            "INSERT INTO credit_entries (account_id, grant_id, kind, credits, balance_after, at,"
            " reference, idempotency_key) VALUES (%s, NULL, 'debit', %s, %s, %s, %s, %s)",
        )
    ]
    local = threading.local()
    run = uuid.uuid4().hex[:8]
    measured = Measured()

    def one(n: int) -> None:
        if not hasattr(local, "connection"):
            local.connection = engine.raw_connection()
        connection = local.connection
        account = accounts[n % len(accounts)]
        now = datetime.now(UTC)
        started = time.perf_counter()
        if lock is not None:
            lock.acquire()
        try:
            cursor = connection.cursor()
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            balance = cursor.execute(statements[0], (account,)).fetchone()[0]
            cursor.execute(statements[1], (f"ref:{run}:{n}",)).fetchone()
            grant_id, _ = cursor.execute(statements[2], (account, _at(engine, now))).fetchone()
            cursor.execute(statements[3], (4, grant_id))
            cursor.execute(statements[4], (balance - 4, account))
            cursor.execute(
                statements[5], (account, -4, balance - 4, _at(engine, now), "ref", f"ref:{run}:{n}")
            )
            connection.commit()
        finally:
            if lock is not None:
                lock.release()
        measured.latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(requests)))
    measured.elapsed = time.perf_counter() - started
    engine.dispose()
    return measured


def raw_batches(engine: Engine, accounts: list[str], batches: int, size: int) -> Measured:
    """``batches`` raw transactions of ``size`` debits each (one account per batch)."""
    sqlite = engine.dialect.name == "sqlite"
    insert = _sql(
        engine,
        "INSERT INTO credit_entries (account_id, grant_id, kind, credits, balance_after, at,"
        " reference, idempotency_key) VALUES (%s, NULL, 'debit', %s, %s, %s, %s, %s)",
    )
    run = uuid.uuid4().hex[:8]
    measured = Measured()
    connection = engine.raw_connection()
    started = time.perf_counter()
    for b in range(batches):
        account = accounts[b % len(accounts)]
        began = time.perf_counter()
        cursor = connection.cursor()
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        lock = "SELECT credit_balance FROM accounts WHERE id = %s" + (
            "" if sqlite else " FOR UPDATE"
        )
        balance = cursor.execute(_sql(engine, lock), (account,)).fetchone()[0]
        keys = [f"refb:{run}:{b}:{i}" for i in range(size)]
        marks = ", ".join(["%s"] * size)
        cursor.execute(
            _sql(
                engine,
                f"SELECT idempotency_key FROM credit_entries WHERE idempotency_key IN ({marks})",
            ),
            keys,
        ).fetchall()
        now = _at(engine, datetime.now(UTC))
        grant_id, _ = cursor.execute(
            _sql(
                engine,
                "SELECT id, remaining FROM credit_grants WHERE account_id = %s"
                " AND remaining > 0 ORDER BY expires_at IS NULL, expires_at, id",
            ),
            (account,),
        ).fetchone()
        rows = [(account, -4, balance - 4 * (i + 1), now, "ref", key) for i, key in enumerate(keys)]
        cursor.executemany(insert, rows)
        cursor.execute(
            _sql(engine, "UPDATE credit_grants SET remaining = remaining - %s WHERE id = %s"),
            (4 * size, grant_id),
        )
        cursor.execute(
            _sql(engine, "UPDATE accounts SET credit_balance = %s WHERE id = %s"),
            (balance - 4 * size, account),
        )
        connection.commit()
        measured.latencies.append((time.perf_counter() - began) * 1000)
    measured.elapsed = time.perf_counter() - started
    connection.close()
    return measured

"""Engines and sessions.

SQLite is the embedded default; its driver would run a transaction's first
SELECT outside the transaction and lose concurrent updates (DESIGN.md §5), so
every SQLite transaction here starts with ``BEGIN IMMEDIATE`` under WAL and a
busy timeout. PostgreSQL uses row locks (``SELECT ... FOR UPDATE``).

Reads use :func:`read_only`: a deferred ``BEGIN`` on SQLite, so a reader never
queues behind (or blocks) a writer; WAL gives it a consistent snapshot.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "sms_read_only"  # execution option: this transaction only reads

# One lock per SQLite engine: this process's writers wait their turn on it, woken
# the moment the previous commit is done, instead of in the driver's busy handler,
# which sleeps in steps of up to 100 ms (the cause of a 1 s p99 at 16 writers, and
# of renewal activities starved past their timeouts in a storm). Re-entrant, so a
# transaction opened inside another on the same thread behaves as before.
_sqlite_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE below is real.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Every commit fsyncs the WAL (durable across power loss, not only app crashes);
        # it costs ~0.2 ms a commit here, well inside the debit budget.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        reading = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    _sqlite_writers[engine] = threading.RLock()
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A Core transaction that writes: committed on success, rolled back on error. On
    SQLite it waits for this process's earlier writers first (the lock above), then
    still takes the database's own write lock (BEGIN IMMEDIATE) against other processes."""
    lock = _sqlite_writers.get(engine)
    with lock if lock is not None else nullcontext(), engine.begin() as connection:
        yield connection


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. On SQLite it waits
    for this process's earlier writers first, as :func:`write_transaction` does."""
    bind = factory.kw.get("bind")
    lock = _sqlite_writers.get(bind) if isinstance(bind, Engine) else None
    with lock if lock is not None else nullcontext(), factory() as session, session.begin():
        yield session


@contextmanager
def read_only(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads only: on SQLite it takes no write lock."""
    with factory() as session:
        session.connection(execution_options={READ_ONLY: True})
        yield session

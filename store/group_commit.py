"""Group commit: many small write transactions, one durable commit.

SQLite runs one write transaction at a time and, with ``synchronous=FULL``, every
commit waits for an fsync (0.2 ms on an idle disk, 2-4 ms on our shared one). One
commit per debit therefore caps a process at a few hundred debits a second however
little each debit does. Here one thread takes every unit of work that is waiting,
runs them in one transaction, commits once and only then answers each caller, so
no one hears "done" before its write is on disk; a unit that fails is rolled back
alone (the group runs again with each unit in its own SAVEPOINT), and a failed
commit fails every unit of the group.
PostgreSQL gains the same way: one round trip per statement on one connection,
one WAL flush per group, and no pool threads fighting for the GIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from store.db import write_transaction

T = TypeVar("T")

MAX_GROUP = 64  # bounds the latency a unit can add for the ones behind it
DEADLOCK_RETRIES = 3
RETRYABLE = {"40P01", "40001"}  # deadlock_detected, serialization_failure

_Work = tuple[Callable[[Connection], Any], "Future[Any]"]


class GroupCommitter:
    """Runs ``work(connection)`` units for one engine on a single thread, committed in groups."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[Connection], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((work, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while len(group) < MAX_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                group.append(more)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list[_Work]) -> None:
        try:
            outcomes = self._run_group(group)
        except Exception as exc:  # the commit failed: nothing of the group was written
            outcomes = [(False, exc)] * len(group)
        for (ok, value), (_, future) in zip(outcomes, group, strict=True):
            settle(future, ok, value)

    def _run_group(self, group: list[_Work]) -> list[tuple[bool, Any]]:
        for attempt in attempts([work for work, _ in group]):
            with contextlib.suppress(UnitFailed), write_transaction(self.engine) as connection:
                return attempt(connection)
        raise AssertionError("the last attempt never raises UnitFailed")


Attempt = Callable[[Connection], list[tuple[bool, Any]]]


def settle(future: Future[Any] | asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Answer a caller; one who gave up waiting (a client that went away cancels its
    future) is skipped, where setting its result would raise and end the committer."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def attempts(works: Sequence[Callable[[Connection], Any]]) -> list[Attempt]:
    """How to run a group, each in a transaction of its own, until one does not raise
    ``UnitFailed``: first every unit straight in the transaction, with no SAVEPOINT and
    RELEASE per unit (two statements of a debit's ten, two round trips on PostgreSQL).
    Units almost never fail; when one does, the whole transaction is rolled back, so
    nothing of that attempt is written, and the group runs again with a savepoint per
    unit. Units therefore only touch the connection (building a debit's results twice
    changes nothing). A unit alone is its own transaction: its failure is its own."""
    if len(works) == 1:
        return [lambda connection: [(True, works[0](connection))]]
    return [
        lambda connection: [(True, run_straight(connection, work)) for work in works],
        lambda connection: [run_unit(connection, work) for work in works],
    ]


class UnitFailed(Exception):
    """A unit raised while its group ran without savepoints."""


def run_straight(connection: Connection, work: Callable[[Connection], Any]) -> Any:
    try:
        return work(connection)
    except Exception as exc:
        raise UnitFailed from exc


def run_unit(connection: Connection, work: Callable[[Connection], Any]) -> tuple[bool, Any]:
    """Run one unit in its own SAVEPOINT; a failure rolls back this unit only. PostgreSQL
    may pick the unit as a deadlock victim (another process's group holds a row it
    needs while waiting for one of ours): rolling back to the savepoint releases what
    it locked, so it is simply run again."""
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            with connection.begin_nested():
                return True, work(connection)
        except OperationalError as exc:
            if attempt == DEADLOCK_RETRIES or _sqlstate(exc) not in RETRYABLE:
                return False, exc
        except Exception as exc:
            return False, exc
    raise AssertionError("unreachable")


def _sqlstate(exc: OperationalError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)

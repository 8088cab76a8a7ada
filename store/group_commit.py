"""Group commit for SQLite: many small write transactions, one durable commit.

SQLite runs one write transaction at a time and, with ``synchronous=FULL``, every
commit waits for an fsync (0.2 ms on an idle disk, 2-4 ms on our shared one). One
commit per debit therefore caps a process at a few hundred debits a second however
little each debit does. Here one thread takes every unit of work that is waiting,
runs each inside its own SAVEPOINT of one transaction, commits once and only then
answers each caller, so no one hears "done" before its write is on disk, a unit
that fails is rolled back alone, and a failed commit fails every unit of the group.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from store.db import write_transaction

T = TypeVar("T")

MAX_GROUP = 64  # bounds the latency a unit can add for the ones behind it

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
        outcomes: list[tuple[bool, Any]] = []
        try:
            with write_transaction(self.engine) as connection:
                for work, _ in group:
                    try:
                        with connection.begin_nested():
                            outcomes.append((True, work(connection)))
                    except Exception as exc:  # this unit only: its savepoint is rolled back
                        outcomes.append((False, exc))
        except Exception as exc:  # the commit failed: nothing of the group was written
            for _, future in group:
                future.set_exception(exc)
            return
        for (ok, value), (_, future) in zip(outcomes, group, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

"""Where the API runs its hot-path database writes.

SQLite: on the group committer's single thread (``store.group_commit``): callers
wait in the event loop, where waiting is free, and share one durable commit. Pool
threads queued on a lock instead keep fighting for the GIL (each statement releases
it; taking it back behind busy threads costs up to the 5 ms switch interval, several
times a transaction) and pay one fsync each (measured: 104-180 debits/s).
PostgreSQL: a transaction per call on the shared thread pool, where they overlap
and the server merges their WAL flushes itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Engine

from store.db import write_transaction
from store.group_commit import GroupCommitter

T = TypeVar("T")


class DbWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._group = GroupCommitter(engine) if engine.dialect.name == "sqlite" else None

    async def run(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` inside a write transaction, committed before this returns."""
        if self._group is not None:
            return await asyncio.wrap_future(self._group.submit(work))
        return await run_in_threadpool(self._alone, work)

    def _alone(self, work: Callable[[Connection], T]) -> T:
        with write_transaction(self.engine) as connection:
            return work(connection)

    def close(self) -> None:
        if self._group is not None:
            self._group.close()

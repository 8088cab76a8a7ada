"""Where the API runs its hot-path database writes: in group commits, on the event
loop's own thread for SQLite (``store.loop_commit``) and on committer threads for
PostgreSQL (``store.group_commit``). Callers wait in the event loop, where waiting
is free, and share one durable commit. Pool threads (one transaction each, queued on a
lock for SQLite or on row locks for PostgreSQL) instead keep fighting for the GIL:
each statement releases it, and taking it back behind busy threads costs up to the
5 ms switch interval, several times a transaction; and each pays its own fsync
(measured: 104-180 debits/s on SQLite).

On PostgreSQL one committer spends most of its time waiting for round trips (each
of a debit's statements is one), so there are several (``SMS_DB_WRITERS``), each on its
own connection, and an account's work always goes to the same one: units in
different committers never touch the same account's rows, so they never wait for
each other's row locks (or deadlock on them), and one account's work is still
done in the order it arrived. SQLite takes one writer at a time, so it has one.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine

from store.group_commit import GroupCommitter
from store.loop_commit import LoopGroupCommitter

T = TypeVar("T")


class DbWriter:
    def __init__(self, engine: Engine, writers: int = 1) -> None:
        sqlite = engine.dialect.name == "sqlite"
        self._on_loop = LoopGroupCommitter(engine) if sqlite else None
        self._groups = [] if sqlite else [GroupCommitter(engine) for _ in range(writers)]

    async def run(self, account_id: str, work: Callable[[Connection], T]) -> T:
        """``work(connection)``, which writes only ``account_id``'s rows, inside a write
        transaction, committed before this returns."""
        if self._on_loop is not None:
            return await self._on_loop.run(work)
        group = self._groups[zlib.crc32(account_id.encode()) % len(self._groups)]
        return await asyncio.wrap_future(group.submit(work))

    def close(self) -> None:
        if self._on_loop is not None:
            self._on_loop.close()
        for group in self._groups:
            group.close()

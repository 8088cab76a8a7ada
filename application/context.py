"""What the API process owns for its lifetime: settings, catalogue, database, Temporal."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from application.db_writer import DbWriter
from application.errors import ApiError
from application.token_cache import TtlCache
from config.settings import Settings
from config.temporal import connect
from domain.catalogue import Catalogue
from domain.errors import ErrorCode

TEMPORAL_CONNECT_TIMEOUT_SECONDS = 3.0


@dataclass
class TemporalLink:
    """A Temporal client connected on first use, so the API can start (and report
    503 on /healthz) while the Temporal server is still down."""

    settings: Settings
    client_: Client | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def client(self) -> Client:
        if self.client_ is not None:
            return self.client_
        async with self._lock:
            if self.client_ is None:
                try:
                    self.client_ = await asyncio.wait_for(
                        connect(self.settings), TEMPORAL_CONNECT_TIMEOUT_SECONDS
                    )
                except Exception as exc:
                    raise ApiError(
                        ErrorCode.SERVICE_UNAVAILABLE, "Temporal is unreachable; try again soon."
                    ) from exc
        return self.client_


@dataclass
class Services:
    settings: Settings
    catalogue: Catalogue
    engine: Engine
    sessions: sessionmaker[Session]
    temporal: TemporalLink
    writer: DbWriter
    # Bearer-token digest -> the deps.Caller it acts for (application/token_cache.py).
    callers: TtlCache[object] = field(default_factory=lambda: TtlCache[object](0))

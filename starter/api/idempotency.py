"""The ``Idempotency-Key`` header of every POST that takes one, as a dependency.

A route declares ``idempotency: IdempotencyDep`` and, once its body is valid,
calls ``idempotency.claim(scope, body)``: 409 ``conflict`` when the key was first
used for another request; otherwise the route goes on and, keyed by
``idempotency.key``, answers the first result (store/idempotency.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from application.errors import ApiError
from domain.errors import ErrorCode
from starter.api.deps import IdempotencyKey, ServicesDep
from store.idempotency import FirstRequest, KeyUse, same_request


@dataclass(frozen=True)
class Idempotency:
    key: str | None
    method: str
    path: str
    sessions: sessionmaker[Session]

    def claim(self, scope: str, body: BaseModel | None = None) -> bool:
        """Raise 409 ``conflict`` if this key was first used for another request;
        True when this is the same request again (answer the first result)."""
        if self.key is None:
            return False
        use = same_request(
            self.sessions,
            scope=scope,
            key=self.key,
            method=self.method,
            path=self.path,
            body=None if body is None else body.model_dump(mode="json"),
            now=datetime.now(UTC),
        )
        if use is KeyUse.CONFLICT:
            raise ApiError(
                ErrorCode.CONFLICT,
                "This Idempotency-Key was already used for a different request.",
            )
        return use is KeyUse.REPEAT

    def first_request(self, scope: str, body: BaseModel) -> FirstRequest | None:
        """The same check, for a route that runs it inside its own write transaction
        (``FirstRequest.use_on``); None without a key."""
        if self.key is None:
            return None
        body_json = body.model_dump(mode="json")
        return FirstRequest(scope, self.key, self.method, self.path, body_json, datetime.now(UTC))


async def idempotency(
    request: Request, services: ServicesDep, key: IdempotencyKey = None
) -> Idempotency:
    # Async: a sync dependency would cost a thread-pool hand-off on every request.
    return Idempotency(key, request.method, request.url.path, services.sessions)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]

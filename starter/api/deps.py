"""FastAPI dependencies: the services, a database session, who is calling and what
they may do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from application.authorization import OPERATOR, Action, Permit, authorize
from application.callers import Caller, caller_for_token_hash
from application.context import Services
from application.errors import ApiError
from application.security import hash_token, same_secret
from domain.errors import ErrorCode
from domain.inputs import ID_PATTERN
from store.db import read_only

# Path ids are checked before anything reads them: a NUL or a megabyte of text
# answers 422 and never reaches the database or a workflow.
AccountIdPath = Annotated[str, Path(pattern=ID_PATTERN)]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]

# API.md: 1-255 printable characters; the same key from the same account never
# creates a second resource.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
        description="Same key from the same account: the same result, created once.",
    ),
]

# Who acts in an operator action, for its audit.
OperatorHeader = Annotated[
    str,
    Header(
        alias="X-Operator",
        min_length=1,
        max_length=64,
        pattern=r"^[\x20-\x7e]+$",
        description="Who acts, for the audit (default: admin).",
    ),
]

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """A session; write endpoints commit with ``session.begin()`` before they answer."""
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_read_session(services: ServicesDep) -> Iterator[Session]:
    """A session that only reads: on SQLite it never waits for (or blocks) a writer."""
    with read_only(services.sessions) as session:
        yield session


ReadSession = Annotated[Session, Depends(get_read_session)]


def _unauthenticated() -> ApiError:
    return ApiError(ErrorCode.UNAUTHENTICATED, "A valid bearer token is required.")


def _load_caller(services: Services, token_hash: str) -> Caller | None:
    with read_only(services.sessions) as session:
        return caller_for_token_hash(session, token_hash)


async def get_caller(credentials: Credentials, services: ServicesDep) -> Caller:
    # Async with a short-lived cache: a known token costs no thread hand-off or query.
    if credentials is None:
        raise _unauthenticated()
    token_hash = hash_token(credentials.credentials)
    cached = services.callers.get(token_hash)
    if isinstance(cached, Caller):
        return cached
    caller = await run_in_threadpool(_load_caller, services, token_hash)
    if caller is None:  # unknown tokens are not cached: a new one works at once
        raise _unauthenticated()
    services.callers.put(token_hash, caller)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def allowed(action: Action) -> Any:
    """A dependency answering the permit to take ``action`` on the path's account, or
    its refusal (application/authorization.py). Declared before any other dependency
    of a route (the Idempotency-Key's among them), so nothing about the request is
    read, refused or replayed for a caller who may not make it."""

    async def permit(account_id: AccountIdPath, caller: CallerDep) -> Permit:
        return authorize(caller, action, account_id)

    return Depends(permit)


def operator_allowed(action: Action) -> Any:
    """The same for the operators' actions: only the admin token may take them."""

    async def permit(
        account_id: AccountIdPath, credentials: Credentials, services: ServicesDep
    ) -> Permit:
        expected = services.settings.sms_admin_token.get_secret_value()
        if credentials is None or not same_secret(credentials.credentials, expected):
            raise ApiError(ErrorCode.UNAUTHENTICATED, "The admin token is required.")
        return authorize(OPERATOR, action, account_id)

    return Depends(permit)

"""FastAPI dependencies: the services, a database session, and who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from application.context import Services
from application.errors import ApiError
from application.security import hash_token, same_secret
from domain.enums import Role
from domain.errors import ErrorCode
from domain.inputs import ID_PATTERN
from domain.purchase import may_buy
from store.db import read_only
from store.models import ApiToken, User

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


@dataclass(frozen=True)
class Caller:
    """The user a token acts for."""

    account_id: str
    user_id: str
    role: Role
    billing_permission: bool

    @property
    def may_buy(self) -> bool:
        return may_buy(self.role, self.billing_permission)


def _unauthenticated() -> ApiError:
    return ApiError(ErrorCode.UNAUTHENTICATED, "A valid bearer token is required.")


def caller_for_token_hash(session: Session, token_hash: str) -> Caller | None:
    """The user a stored token digest acts for (the billing page's sessions use it too)."""
    token = session.get(ApiToken, token_hash)
    user = None if token is None else session.get(User, (token.account_id, token.user_id))
    if user is None:
        return None
    return Caller(user.account_id, user.user_id, Role(user.role), user.billing_permission)


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


async def account_caller(account_id: AccountIdPath, caller: CallerDep) -> Caller:
    """The caller, who must belong to the account in the path; any other account is
    answered 404 so that its existence is not revealed."""
    if caller.account_id != account_id:
        raise ApiError(ErrorCode.NOT_FOUND, f"Account {account_id} was not found.")
    return caller


AccountCaller = Annotated[Caller, Depends(account_caller)]


def require_billing_permission(caller: Caller) -> Caller:
    """The caller, who must be allowed to buy (DESIGN.md rule 1): confirming or
    cancelling a purchase, cancelling, resuming and registering are billing decisions too."""
    if not caller.may_buy:
        raise ApiError(
            ErrorCode.BILLING_PERMISSION_REQUIRED,
            "Only the primary admin or a user with the billing permission can do this.",
        )
    return caller


async def billing_caller(caller: AccountCaller) -> Caller:
    return require_billing_permission(caller)


BillingCaller = Annotated[Caller, Depends(billing_caller)]


async def require_admin(credentials: Credentials, services: ServicesDep) -> None:
    expected = services.settings.sms_admin_token.get_secret_value()
    if credentials is None or not same_secret(credentials.credentials, expected):
        raise ApiError(ErrorCode.UNAUTHENTICATED, "The admin token is required.")


AdminDep = Depends(require_admin)

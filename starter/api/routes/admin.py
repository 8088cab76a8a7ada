"""Admin endpoints (admin token): create and change accounts, add users
(application/accounts.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status

from application import accounts
from application.accounts import AccountIn, AccountOut, UserIn, UserOut
from application.authorization import Action, Permit
from domain.errors import ErrorCode
from starter.api.deps import AccountIdPath, ServicesDep, operator_allowed
from starter.api.errors import error_responses

router = APIRouter(prefix="/v1/admin", tags=["admin"])

AccountsPermit = Annotated[Permit, operator_allowed(Action.MANAGE_ACCOUNTS)]


@router.put(
    "/accounts/{account_id}",
    responses={
        201: {"model": AccountOut},
        **error_responses(ErrorCode.CONFLICT, ErrorCode.SERVICE_UNAVAILABLE),
    },
)
async def put_account(
    account_id: AccountIdPath,
    permit: AccountsPermit,
    body: AccountIn,
    services: ServicesDep,
    response: Response,
) -> AccountOut:
    saved, created = await accounts.put_account(services, permit, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return saved


@router.post(
    "/accounts/{account_id}/users",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(ErrorCode.NOT_FOUND, ErrorCode.CONFLICT),
)
def add_user(
    account_id: AccountIdPath, permit: AccountsPermit, body: UserIn, services: ServicesDep
) -> UserOut:
    return accounts.add_user(services, permit, body)

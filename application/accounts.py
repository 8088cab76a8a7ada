"""Accounts and their users (admin token): create and change an account, add a user
with the token it acts with (shown once)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from application.authorization import Action, Permit
from application.clients.subscription import AccountChange
from application.context import Services
from application.errors import ApiError
from application.security import hash_token, new_token
from application.subscription_notify import (
    BillingTerms,
    notify_subscription,
    subscription_messages,
)
from domain.addon import anchor_locked, currency_locked
from domain.enums import AddonStatus, BillingCycle, Currency, Locale, Plan, Role
from domain.errors import ErrorCode
from domain.inputs import Choice, Email, Id, InputModel, IsoDate, Name
from store.caller_models import ApiToken
from store.db import transaction
from store.models import Account, AddonSubscription, User
from store.purchases import has_bought

DEFAULT_PAYMENT_METHOD = "pm_card_visa"

PaymentMethod = Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,60}$")]


class AccountIn(InputModel):
    name: Name | None = None
    plan: Choice[Plan] | None = None
    billing_cycle: Choice[BillingCycle] | None = None
    billing_anchor: IsoDate | None = None
    payment_method: PaymentMethod | None = None
    currency: Choice[Currency] | None = None
    locale: Choice[Locale] | None = None


class AccountOut(BaseModel):
    account_id: str
    name: str
    plan: Plan
    billing_cycle: BillingCycle
    billing_anchor: date
    payment_method: str
    currency: Currency
    locale: Locale
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(
            account_id=account.id,
            name=account.name,
            plan=Plan(account.plan),
            billing_cycle=BillingCycle(account.billing_cycle),
            billing_anchor=account.billing_anchor,
            payment_method=account.payment_method,
            currency=Currency(account.currency),
            locale=Locale(account.locale),
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class UserIn(InputModel):
    user_id: Id
    email: Email
    role: Choice[Role]
    billing_permission: bool = False


class UserOut(BaseModel):
    user_id: str
    token: str = Field(description="Shown only here; store it now.")


def _missing_fields(body: AccountIn, names: tuple[str, ...]) -> ApiError | None:
    missing = [name for name in names if getattr(body, name) is None]
    if not missing:
        return None
    return ApiError(
        ErrorCode.INVALID_REQUEST,
        f"A new account needs: {', '.join(missing)}.",
        details=[{"field": name, "message": "Field required"} for name in missing],
    )


def _create(account_id: str, body: AccountIn, now: datetime) -> Account:
    if (error := _missing_fields(body, ("name", "plan"))) is not None:
        raise error
    return Account(
        id=account_id,
        name=body.name,
        plan=body.plan,
        billing_cycle=body.billing_cycle or BillingCycle.MONTHLY,
        billing_anchor=body.billing_anchor or now.date(),
        payment_method=body.payment_method or DEFAULT_PAYMENT_METHOD,
        currency=body.currency or Currency.USD,
        locale=body.locale or Locale.EN,
        credit_balance=0,
        created_at=now,
        updated_at=now,
    )


def _update(account: Account, body: AccountIn, session: Session, now: datetime) -> None:
    changes = body.model_dump(exclude_none=True)
    if "billing_anchor" in changes and changes["billing_anchor"] != account.billing_anchor:
        addon = session.get(AddonSubscription, account.id)
        if addon is not None and anchor_locked(AddonStatus(addon.status)):
            raise ApiError(
                ErrorCode.CONFLICT, "The billing anchor cannot move while the add-on is active."
            )
    current = Currency(account.currency)
    wanted = Currency(changes.get("currency", current))
    if currency_locked(current, wanted, has_bought(session, account.id)):
        raise ApiError(
            ErrorCode.CONFLICT, f"The account pays in {current} for life: it has bought something."
        )
    for name, value in changes.items():
        setattr(account, name, value)
    account.updated_at = now


def _save_account(
    services: Services, account_id: str, body: AccountIn
) -> tuple[AccountOut, bool, list[AccountChange]]:
    now = datetime.now(UTC)
    messages: list[AccountChange] = []
    with transaction(services.sessions) as session:
        account = session.get(Account, account_id, with_for_update=True)
        created = account is None
        if account is None:
            account = _create(account_id, body, now)
            session.add(account)
        else:
            before = BillingTerms.of(account)
            _update(account, body, session, now)
            messages = subscription_messages(session, services.catalogue, before, account)
        session.flush()
        return AccountOut.of(account), created, messages


async def put_account(
    services: Services, permit: Permit, body: AccountIn
) -> tuple[AccountOut, bool]:
    """Create the account (True) or change it (False); a change of its billing terms
    reaches a running subscription once committed."""
    permit.require(Action.MANAGE_ACCOUNTS)
    account_id = permit.account_id
    saved, created, messages = await asyncio.to_thread(_save_account, services, account_id, body)
    if messages:  # after the commit: the subscription re-reads what it was told
        await notify_subscription(services, account_id, messages)
    return saved, created


def _add_user(services: Services, account_id: str, body: UserIn, token: str) -> None:
    now = datetime.now(UTC)
    with transaction(services.sessions) as session:
        if session.get(Account, account_id) is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"Account {account_id} was not found.")
        if session.get(User, (account_id, body.user_id)) is not None:
            raise ApiError(ErrorCode.CONFLICT, f"User {body.user_id} already exists.")
        session.add(User(account_id=account_id, created_at=now, **body.model_dump()))
        session.flush()
        session.add(
            ApiToken(
                token_hash=hash_token(token),
                account_id=account_id,
                user_id=body.user_id,
                created_at=now,
            )
        )


def add_user(services: Services, permit: Permit, body: UserIn) -> UserOut:
    """Add a user and the token it acts with (shown only in this answer)."""
    permit.require(Action.MANAGE_ACCOUNTS)
    token = new_token()
    try:
        _add_user(services, permit.account_id, body, token)
    except IntegrityError as exc:
        raise ApiError(ErrorCode.CONFLICT, f"User {body.user_id} already exists.") from exc
    return UserOut(user_id=body.user_id, token=token)

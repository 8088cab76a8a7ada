"""Admin endpoints (admin token): create and change accounts, add users."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from anyio import from_thread
from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.exc import IntegrityError

from application.errors import ApiError
from application.security import hash_token, new_token
from application.subscription_notify import (
    BillingTerms,
    SubscriptionMessage,
    notify_subscription,
    subscription_messages,
)
from domain.enums import AddonStatus, BillingCycle, Currency, Locale, Plan, Role
from domain.errors import ErrorCode
from domain.inputs import Choice, Email, Id, InputModel, IsoDate, Name
from starter.api.deps import AccountIdPath, AdminDep, ServicesDep, SessionDep
from starter.api.errors import error_responses
from store.models import Account, AddonSubscription, ApiToken, User
from store.purchases import has_bought

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[AdminDep])

DEFAULT_PAYMENT_METHOD = "pm_card_visa"
# Add-on states in which the billing anchor is in use and must not move.
ANCHOR_LOCKED = {AddonStatus.ACTIVE, AddonStatus.PAST_DUE, AddonStatus.CANCELLING}

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


def _update(account: Account, body: AccountIn, session: SessionDep, now: datetime) -> None:
    changes = body.model_dump(exclude_none=True)
    if "billing_anchor" in changes and changes["billing_anchor"] != account.billing_anchor:
        addon = session.get(AddonSubscription, account.id)
        if addon is not None and AddonStatus(addon.status) in ANCHOR_LOCKED:
            raise ApiError(
                ErrorCode.CONFLICT, "The billing anchor cannot move while the add-on is active."
            )
    currency = changes.get("currency", account.currency)
    if currency != account.currency and has_bought(session, account.id):
        raise ApiError(
            ErrorCode.CONFLICT,
            f"The account pays in {account.currency} for life: it has bought something.",
        )
    for name, value in changes.items():
        setattr(account, name, value)
    account.updated_at = now


@router.put(
    "/accounts/{account_id}",
    responses={
        201: {"model": AccountOut},
        **error_responses(ErrorCode.CONFLICT, ErrorCode.SERVICE_UNAVAILABLE),
    },
)
def put_account(
    account_id: AccountIdPath,
    body: AccountIn,
    session: SessionDep,
    services: ServicesDep,
    response: Response,
) -> AccountOut:
    now = datetime.now(UTC)
    messages: list[SubscriptionMessage] = []
    with session.begin():
        account = session.get(Account, account_id, with_for_update=True)
        if account is None:
            account = _create(account_id, body, now)
            session.add(account)
            response.status_code = status.HTTP_201_CREATED
        else:
            before = BillingTerms.of(account)
            _update(account, body, session, now)
            messages = subscription_messages(session, services.catalogue, before, account)
    if messages:  # after the commit: the subscription re-reads what it was told
        from_thread.run(notify_subscription, services, account_id, messages)
    return AccountOut.of(account)


@router.post(
    "/accounts/{account_id}/users",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(ErrorCode.NOT_FOUND, ErrorCode.CONFLICT),
)
def add_user(account_id: AccountIdPath, body: UserIn, session: SessionDep) -> UserOut:
    token = new_token()
    now = datetime.now(UTC)
    try:
        with session.begin():
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
    except IntegrityError as exc:
        raise ApiError(ErrorCode.CONFLICT, f"User {body.user_id} already exists.") from exc
    return UserOut(user_id=body.user_id, token=token)

"""Who a request acts for: the user a bearer token (or a billing-page session opened
with one) belongs to, as stored now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from domain.enums import Role
from domain.purchase import may_buy
from store.caller_models import ApiToken
from store.models import User


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


def caller_for_token_hash(session: Session, token_hash: str) -> Caller | None:
    """The user a stored token digest acts for (the billing page's sessions use it too)."""
    token = session.get(ApiToken, token_hash)
    user = None if token is None else session.get(User, (token.account_id, token.user_id))
    if user is None:
        return None
    return Caller(user.account_id, user.user_id, Role(user.role), user.billing_permission)

"""Who may do what: every action of the JSON API and the billing page in one table, and
the one function that enforces it. The FastAPI dependencies and the page both call
:func:`authorize` before anything about the resource is read, refused or replayed,
and every application function takes the :class:`Permit` it returns.

- A user token on another account's path: 404 ``not_found``, never 403, so the
  account's existence is not revealed.
- A user who may not: 403 ``billing_permission_required``.
- The admin token acts only on the operators' actions, and nothing else does: 401
  ``unauthenticated``, as for any token the path does not take.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from application.callers import Caller
from application.errors import ApiError
from domain.errors import ErrorCode


class Who(StrEnum):
    """Who may take an action."""

    ACCOUNT_USER = "any user of the account"
    # DESIGN.md rule 1: buying, and every other decision about money or the add-on.
    BILLING = "the primary admin, or a user with the billing permission"
    ADMIN_TOKEN = "the admin token (operators)"


class Action(StrEnum):
    READ_BILLING = "read_billing"
    READ_REGISTRATION = "read_registration"
    SEND = "send"
    BUY = "buy"
    CHANGE_TIER = "change_tier"
    CONFIRM_PURCHASE = "confirm_purchase"
    CANCEL_PURCHASE = "cancel_purchase"
    CANCEL_ADDON = "cancel_addon"
    RESUME_ADDON = "resume_addon"
    END_LINE = "end_line"
    SETTINGS = "settings"
    BILLING_DETAILS = "billing_details"
    REGISTER = "register"
    MANAGE_ACCOUNTS = "manage_accounts"
    GOODWILL = "goodwill"
    RETRY_PAYMENT = "retry_payment"
    OPERATOR_CANCEL = "operator_cancel"
    REFUND = "refund"
    READ_AUDIT = "read_audit"
    REDELIVER = "redeliver"


@dataclass(frozen=True)
class Rule:
    who: Who
    requests: str  # the requests that take the action, for a reader of this table


ACCOUNT = "/v1/accounts/{account_id}"
ADMIN = "/v1/admin/accounts/{account_id}"

TABLE: dict[Action, Rule] = {
    Action.READ_BILLING: Rule(
        Who.ACCOUNT_USER,
        f"GET {ACCOUNT}/sms, …/offers, …/ledger, …/payments, …/purchases[/{{id}}], "
        "…/receipts; the billing page itself",
    ),
    Action.READ_REGISTRATION: Rule(Who.ACCOUNT_USER, f"GET {ACCOUNT}/sms/registrations/a2p_10dlc"),
    Action.SEND: Rule(Who.ACCOUNT_USER, f"POST {ACCOUNT}/sms/usage, …/usage/batch"),
    Action.BUY: Rule(Who.BILLING, f"POST {ACCOUNT}/sms/purchases; the page's Add to plan, Edit"),
    # A purchase of another tier while the add-on is active. The purchase route cannot
    # tell it from a purchase before it reads the add-on, so it authorizes both as BUY:
    # the two rules must stay the same (checked below).
    Action.CHANGE_TIER: Rule(Who.BILLING, f"POST {ACCOUNT}/sms/purchases; the page's Change tier"),
    Action.CONFIRM_PURCHASE: Rule(Who.BILLING, f"POST {ACCOUNT}/sms/purchases/{{id}}/confirm"),
    Action.CANCEL_PURCHASE: Rule(Who.BILLING, f"POST {ACCOUNT}/sms/purchases/{{id}}/cancel"),
    Action.CANCEL_ADDON: Rule(Who.BILLING, f"POST {ACCOUNT}/sms/addon/cancel"),
    Action.RESUME_ADDON: Rule(Who.BILLING, f"POST {ACCOUNT}/sms/addon/resume"),
    Action.END_LINE: Rule(Who.BILLING, f"POST {ACCOUNT}/sms/lines/{{line_id}}/cancel"),
    Action.SETTINGS: Rule(Who.BILLING, f"GET/PUT {ACCOUNT}/sms/settings, GET …/sms/events"),
    Action.BILLING_DETAILS: Rule(Who.BILLING, f"GET/PUT {ACCOUNT}/billing-details"),
    Action.REGISTER: Rule(Who.BILLING, f"POST {ACCOUNT}/sms/registrations/a2p_10dlc"),
    Action.MANAGE_ACCOUNTS: Rule(
        Who.ADMIN_TOKEN, "PUT /v1/admin/accounts/{account_id}, POST …/users"
    ),
    Action.GOODWILL: Rule(Who.ADMIN_TOKEN, f"POST {ADMIN}/sms/goodwill"),
    Action.RETRY_PAYMENT: Rule(Who.ADMIN_TOKEN, f"POST {ADMIN}/sms/retry-payment"),
    Action.OPERATOR_CANCEL: Rule(Who.ADMIN_TOKEN, f"POST {ADMIN}/sms/addon/cancel"),
    Action.REFUND: Rule(Who.ADMIN_TOKEN, f"POST {ADMIN}/sms/refunds"),
    Action.READ_AUDIT: Rule(Who.ADMIN_TOKEN, f"GET {ADMIN}/sms/audit"),
    Action.REDELIVER: Rule(Who.ADMIN_TOKEN, f"POST {ADMIN}/sms/events/{{event_id}}/redeliver"),
}
if set(TABLE) != set(Action) or TABLE[Action.CHANGE_TIER].who is not TABLE[Action.BUY].who:
    raise RuntimeError("every action needs its rule, and a tier change is authorized as a buy")


class Operator:
    """Whoever holds the admin token."""


OPERATOR = Operator()
Principal = Caller | Operator

PERMISSION_REQUIRED = "Only the primary admin or a user with the billing permission can do this."


def refusal(principal: Principal, action: Action, account_id: str) -> ApiError | None:
    """Why ``principal`` may not take ``action`` on ``account_id``, or None."""
    who = TABLE[action].who
    if isinstance(principal, Operator):
        if who is Who.ADMIN_TOKEN:
            return None
        return ApiError(ErrorCode.UNAUTHENTICATED, "A valid bearer token is required.")
    if who is Who.ADMIN_TOKEN:
        return ApiError(ErrorCode.UNAUTHENTICATED, "The admin token is required.")
    if principal.account_id != account_id:
        return ApiError(ErrorCode.NOT_FOUND, f"Account {account_id} was not found.")
    if who is Who.BILLING and not principal.may_buy:
        return ApiError(ErrorCode.BILLING_PERMISSION_REQUIRED, PERMISSION_REQUIRED)
    return None


@dataclass(frozen=True)
class Permit:
    """``principal`` may take ``action`` on ``account_id``: made only by :func:`authorize`."""

    principal: Principal
    action: Action
    account_id: str

    def require(self, *actions: Action) -> None:
        """The application function taking this permit does one of ``actions``."""
        if self.action not in actions:
            raise RuntimeError(f"a permit to {self.action} cannot {' or '.join(actions)}")

    @property
    def caller(self) -> Caller:
        """The user acting (a user's action)."""
        if not isinstance(self.principal, Caller):
            raise RuntimeError(f"{self.action} is not a user's action")
        return self.principal


def authorize(principal: Principal, action: Action, account_id: str) -> Permit:
    """The permit to take ``action`` on ``account_id``, or the refusal raised."""
    refused = refusal(principal, action, account_id)
    if refused is not None:
        raise refused
    return Permit(principal, action, account_id)


def allowed_actions(caller: Caller) -> frozenset[Action]:
    """What ``caller`` may do on their own account (what the billing page offers)."""
    return frozenset(
        action for action in Action if refusal(caller, action, caller.account_id) is None
    )

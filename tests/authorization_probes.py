"""How the authorization test takes each action of the table: the requests of the JSON
API and the billing page's forms, what each needs in place first, and what it answers
when allowed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from application.authorization import Action
from tests.authorization_support import PACK, World
from tests.receipt_support import BRAZILIAN_COMPANY
from tests.registration_support import DETAILS

ACCOUNT = "/v1/accounts/{account_id}/sms"
ADMIN = "/v1/admin/accounts/{account_id}"
SEND = {"country": "BR", "recipients": 1, "text": "Sale ends tonight!"}
# The actions whose requests this branch does not serve yet (another change adds them);
# the test below fails once they are served, so that their calls are added here.
NOT_SERVED_YET: dict[Action, str] = {}
# The billing-details form's fields: the JSON body's, the address's flattened.
DETAILS_FORM = {
    **{name: value for name, value in BRAZILIAN_COMPANY.items() if name != "address"},
    **BRAZILIAN_COMPANY["address"],
}


@dataclass(frozen=True)
class Call:
    """One request that takes the action; ``lands``: where an allowed page form goes."""

    method: str
    path: str
    success: int
    body: Callable[[World], Any] | None = None
    key: bool = False
    lands: str = ""
    # What another account's user gets from a page GET: their own page, or 404 for a
    # resource that is not theirs.
    elsewhere: int = 200


Before = Callable[[World], Awaitable[dict[str, str]]]


@dataclass(frozen=True)
class Probe:
    api: tuple[Call, ...]
    page: tuple[Call, ...] = ()
    before: Before | None = None  # before each attempt: the resource it acts on
    setup: Callable[[World], Awaitable[None]] | None = None  # once, before any attempt


async def a_quote(world: World) -> dict[str, str]:
    return {"purchase_id": await world.quote(PACK)}


async def a_pack_line(world: World) -> dict[str, str]:
    return {"line_id": await world.pack_line()}


async def a_cancel(world: World) -> dict[str, str]:
    await world.cancelling()
    return {}


async def the_add_on(world: World) -> dict[str, str]:
    """The add-on's purchase and the receipt of its payment."""
    return {"purchase_id": world.ids["addon"], "receipt_id": world.ids["receipt"]}


async def a_failed_delivery(world: World) -> dict[str, str]:
    return {"event_id": world.failed_delivery()}


def form(**fields: str) -> Callable[[World], Any]:
    return lambda world: {"request_key": world.unique("form"), **fields}


def decision(decided: str, notice: str) -> Probe:
    """Confirm or cancel a quote made for the attempt."""
    path = f"/purchases/{{purchase_id}}/{decided}"
    return Probe(
        api=(Call("POST", f"{ACCOUNT}{path}", 200, key=True),),
        page=(
            Call(
                "POST",
                f"/billing/purchases/{{purchase_id}}/{decided}",
                303,
                lands=f"notice={notice}",
            ),
        ),
        before=a_quote,
    )


PROBES: dict[Action, Probe] = {
    Action.READ_BILLING: Probe(
        api=(
            Call("GET", ACCOUNT, 200),
            Call("GET", f"{ACCOUNT}/offers", 200),
            Call("GET", f"{ACCOUNT}/ledger", 200),
            Call("GET", f"{ACCOUNT}/payments", 200),
            Call("GET", f"{ACCOUNT}/purchases", 200),
            Call("GET", f"{ACCOUNT}/purchases/{{purchase_id}}", 200),
            Call("GET", f"{ACCOUNT}/receipts", 200),
            Call("GET", f"{ACCOUNT}/receipts/{{receipt_id}}", 200),
            Call("GET", f"{ACCOUNT}/receipts/{{receipt_id}}/pdf", 200),
        ),
        page=(
            Call("GET", "/billing?purchase={purchase_id}", 200),
            Call("GET", "/billing/receipts/{receipt_id}/pdf", 200, elsewhere=404),
        ),
        before=the_add_on,
    ),
    Action.READ_REGISTRATION: Probe(api=(Call("GET", f"{ACCOUNT}/registrations/a2p_10dlc", 200),)),
    Action.SEND: Probe(
        api=(
            Call("POST", f"{ACCOUNT}/usage", 200, lambda w: SEND, key=True),
            Call(
                "POST",
                f"{ACCOUNT}/usage/batch",
                200,
                lambda w: {"messages": [{**SEND, "idempotency_key": w.unique("msg")}]},
            ),
        )
    ),
    Action.BUY: Probe(
        api=(Call("POST", f"{ACCOUNT}/purchases", 201, lambda w: {"item": PACK}, key=True),),
        page=(Call("POST", "/billing/purchases", 303, form(pack="pack-500"), lands="purchase="),),
    ),
    Action.CHANGE_TIER: Probe(
        api=(
            Call(
                "POST",
                f"{ACCOUNT}/purchases",
                201,
                lambda w: {"item": {"type": "addon", "tier": "sms-2500"}},
                key=True,
            ),
        ),
        page=(Call("POST", "/billing/purchases", 303, form(tier="sms-2500"), lands="purchase="),),
    ),
    Action.CONFIRM_PURCHASE: decision("confirm", "purchase_completed"),
    Action.CANCEL_PURCHASE: decision("cancel", "purchase_cancelled"),
    Action.CANCEL_ADDON: Probe(
        api=(Call("POST", f"{ACCOUNT}/addon/cancel", 200),),
        page=(Call("POST", "/billing/addon/cancel", 303, lands="notice=addon_cancelling"),),
    ),
    Action.RESUME_ADDON: Probe(
        api=(Call("POST", f"{ACCOUNT}/addon/resume", 200),), before=a_cancel
    ),
    Action.END_LINE: Probe(
        api=(Call("POST", f"{ACCOUNT}/lines/{{line_id}}/cancel", 200),), before=a_pack_line
    ),
    Action.SETTINGS: Probe(
        api=(
            Call("GET", f"{ACCOUNT}/settings", 200),
            Call("PUT", f"{ACCOUNT}/settings", 200, lambda w: {"low_balance_threshold": 100}),
            Call("GET", f"{ACCOUNT}/events", 200),
        )
    ),
    Action.BILLING_DETAILS: Probe(
        api=(
            Call(
                "PUT", "/v1/accounts/{account_id}/billing-details", 200, lambda w: BRAZILIAN_COMPANY
            ),
            Call("GET", "/v1/accounts/{account_id}/billing-details", 200),
        ),
        page=(
            Call(
                "POST",
                "/billing/billing-details",
                303,
                lambda w: DETAILS_FORM,
                lands="notice=billing_details_saved",
            ),
        ),
    ),
    Action.REGISTER: Probe(
        api=(Call("POST", f"{ACCOUNT}/registrations/a2p_10dlc", 202, lambda w: DETAILS),)
    ),
    Action.MANAGE_ACCOUNTS: Probe(
        api=(
            Call("PUT", ADMIN, 200, lambda w: {"name": "Renamed"}),
            Call(
                "POST",
                f"{ADMIN}/users",
                201,
                lambda w: {"user_id": w.unique("u"), "email": "u@acme.test", "role": "user"},
            ),
        )
    ),
    Action.GOODWILL: Probe(
        api=(
            Call(
                "POST",
                f"{ADMIN}/sms/goodwill",
                201,
                lambda w: {"credits": 10, "reason": "sorry", "request_id": w.unique("gw")},
            ),
        )
    ),
    Action.RETRY_PAYMENT: Probe(
        api=(Call("POST", f"{ADMIN}/sms/retry-payment", 202, key=True),),
        setup=World.past_due,
    ),
    Action.OPERATOR_CANCEL: Probe(
        api=(Call("POST", f"{ADMIN}/sms/addon/cancel", 200, lambda w: {"when": "period_end"}),)
    ),
    Action.REFUND: Probe(
        api=(
            Call(
                "POST",
                f"{ADMIN}/sms/refunds",
                201,
                lambda w: {"payment_id": w.capture_id, "amount_minor": 100, "reason": "sorry"},
                key=True,
            ),
        )
    ),
    Action.READ_AUDIT: Probe(api=(Call("GET", f"{ADMIN}/sms/audit", 200),)),
    Action.REDELIVER: Probe(
        api=(Call("POST", f"{ADMIN}/sms/events/{{event_id}}/redeliver", 202),),
        before=a_failed_delivery,
    ),
}

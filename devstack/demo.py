"""The demo that `make run` seeds once through the real admin API, and the curl
walkthrough it prints.

The tokens are kept in a private file as each user is created, so a later run
prints them again and an interrupted seed resumes without creating anyone twice.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devstack.private_files import write_private
from domain.enums import BillingCycle, Currency, Locale, Plan, Role

MAIN_ACCOUNT = "acme"
DEMO_TIER = "sms-1000"
DEMO_PACK = "pack-500"
DEMO_MESSAGE = {"country": "BR", "recipients": 120, "text": "Sale ends tonight!"}


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    role: Role
    billing_permission: bool
    label: str


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    name: str
    plan: Plan
    billing_cycle: BillingCycle
    users: tuple[DemoUser, ...]
    currency: Currency = Currency.USD
    locale: Locale = Locale.EN
    # Set by the first user (the primary admin), so its receipts name them.
    billing_details: dict[str, Any] | None = None


def _primary_admin(user_id: str) -> DemoUser:
    return DemoUser(user_id, Role.PRIMARY_ADMIN, False, "primary admin")


# The demo's Brazilian company: its receipts name its CNPJ.
BRAZILIAN_COMPANY: dict[str, Any] = {
    "legal_name": "Padaria Pão Quente Comércio de Alimentos Ltda.",
    "tax_id": "12.345.678/0001-95",
    "email": "financeiro@paoquente.example",
    "address": {
        "line1": "Rua das Laranjeiras, 123",
        "line2": "Sala 4",
        "city": "Rio de Janeiro",
        "state": "RJ",
        "postal_code": "22240-003",
        "country": "BR",
    },
}


# One account on each plan, one of them annual; the main one has every kind of user.
DEMO_ACCOUNTS = (
    DemoAccount(
        MAIN_ACCOUNT,
        "Acme Corp",
        Plan.PLUS,
        BillingCycle.MONTHLY,
        (
            _primary_admin("ana"),
            DemoUser("ben", Role.USER, True, "billing user"),
            DemoUser("cleo", Role.USER, False, "plain user, may not buy"),
        ),
    ),
    DemoAccount(
        "globex", "Globex", Plan.PROFESSIONAL, BillingCycle.ANNUAL, (_primary_admin("gina"),)
    ),
    DemoAccount(
        "initech", "Initech", Plan.ENTERPRISE, BillingCycle.MONTHLY, (_primary_admin("ivan"),)
    ),
    DemoAccount(
        "smallco", "Small Co", Plan.STARTER, BillingCycle.MONTHLY, (_primary_admin("sam"),)
    ),
    # A Brazilian company: priced in reais, receipts in Portuguese with its CNPJ.
    DemoAccount(
        "padaria",
        "Padaria Pão Quente",
        Plan.PLUS,
        BillingCycle.MONTHLY,
        (_primary_admin("paula"),),
        currency=Currency.BRL,
        locale=Locale.PT_BR,
        billing_details=BRAZILIAN_COMPANY,
    ),
)

STARTER = next(account for account in DEMO_ACCOUNTS if account.plan is Plan.STARTER)


class DemoSeedError(RuntimeError):
    """The admin API refused the seed; the message says what to do."""


@dataclass
class DemoState:
    """What the seed has done so far: the tokens it created, and whether it finished."""

    path: Path
    complete: bool = False
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> DemoState:
        if not path.exists():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(path, bool(data["complete"]), dict(data["tokens"]))

    def save(self) -> None:
        data = {"complete": self.complete, "tokens": self.tokens}
        write_private(self.path, json.dumps(data, indent=2) + "\n")


def token_key(account_id: str, user_id: str) -> str:
    return f"{account_id}/{user_id}"


def seed_demo(api: httpx.Client, admin_token: str, state_path: Path) -> tuple[DemoState, bool]:
    """Create the demo accounts and users once; returns the state and whether it seeded now.

    A finished seed is never repeated, so a second `make run` keeps whatever the
    demo accounts have become.
    """
    state = DemoState.load(state_path)
    if state.complete:
        return state, False
    headers = {"Authorization": f"Bearer {admin_token}"}
    for account in DEMO_ACCOUNTS:
        body = {
            "name": account.name,
            "plan": account.plan,
            "billing_cycle": account.billing_cycle,
            "currency": account.currency,
            "locale": account.locale,
        }
        _expect(api.put(f"/v1/admin/accounts/{account.account_id}", json=body, headers=headers))
        for user in account.users:
            key = token_key(account.account_id, user.user_id)
            if key in state.tokens:
                continue
            created = api.post(
                f"/v1/admin/accounts/{account.account_id}/users",
                json={
                    "user_id": user.user_id,
                    "email": f"{user.user_id}@{account.account_id}.test",
                    "role": user.role,
                    "billing_permission": user.billing_permission,
                },
                headers=headers,
            )
            state.tokens[key] = _expect(created)["token"]
            state.save()
        if account.billing_details is not None:
            first = state.tokens[token_key(account.account_id, account.users[0].user_id)]
            saved = api.put(
                f"/v1/accounts/{account.account_id}/billing-details",
                json=account.billing_details,
                headers={"Authorization": f"Bearer {first}"},
            )
            _expect(saved)
    state.complete = True
    state.save()
    return state, True


def _expect(response: httpx.Response) -> Any:
    if response.is_success:
        return response.json()
    raise DemoSeedError(
        f"The admin API answered {response.status_code} to {response.request.method} "
        f"{response.request.url.path}: {response.text}. "
        "If the demo data is inconsistent, stop and delete .data/ to start over."
    )


def accounts_table() -> str:
    return "\n".join(
        f"  {account.account_id:<8} {account.plan:<13} {account.billing_cycle:<8} "
        + ", ".join(f"{user.user_id} ({user.label})" for user in account.users)
        + ("" if account.currency is Currency.USD else f"; {account.currency}, {account.locale}")
        for account in DEMO_ACCOUNTS
    )


def token_lines(api_url: str, state: DemoState) -> str:
    """Shell assignments of the API address and every demo user's token."""
    lines = [f"API={api_url}"] + [
        f"{_var(user.user_id)}={state.tokens.get(token_key(account.account_id, user.user_id), '')}"
        for account in DEMO_ACCOUNTS
        for user in account.users
    ]
    return "\n".join(f"  {line}" for line in lines)


def billing_page_lines(api_url: str, state: DemoState) -> str:
    """How to sign in to the billing page as each demo user."""
    lines = [
        f'Open {api_url}/billing, paste a token into "API token" and press "Sign in"'
        " (Portuguese with a pt-BR browser):"
    ] + [
        f"  {user.user_id:<5} {account.account_id:<8} {user.label:<24} "
        + state.tokens.get(token_key(account.account_id, user.user_id), "")
        for account in DEMO_ACCOUNTS
        for user in account.users
    ]
    return "\n".join(f"  {line}" for line in lines)


def _var(user_id: str) -> str:
    return user_id.upper()


# Every call shows its answer and then " -> " and its status code.
SHOW_STATUS = "-w ' -> %{http_code}\\n'"
# Shows an answer (with its status) and prints its field $1; fails when there is none.
PICK = (
    'pick() { python3 -c "import json,sys; a=sys.stdin.read(); sys.stderr.write(a); '
    "v=json.loads(a.rpartition(' -> ')[0]).get('$1'); print(v or ''); sys.exit(v is None)\"; }"
)
# Fresh Idempotency-Keys on every paste, so a second paste makes new purchases and sends.
RUN = "RUN=$(date +%s)-$RANDOM"


def _curl(
    method: str, path: str, *, user: str | None = None, body: object = None, key: str | None = None
) -> str:
    parts = [f"curl -sS {SHOW_STATUS}"]
    if method != "GET":
        parts.append(f"-X {method}")
    if user is not None:
        parts.append(f'-H "Authorization: Bearer ${_var(user)}"')
    if key is not None:
        parts.append(f'-H "Idempotency-Key: demo-$RUN-{key}"')
    if body is not None:
        parts.append('-H "Content-Type: application/json"')
        parts.append("-d " + shlex.quote(json.dumps(body, separators=(",", ":"))))
    parts.append(f'"$API{path}"')
    return " ".join(parts)


def _purchase_request(account: str, user: str, item: dict[str, str], key: str) -> str:
    path = f"/v1/accounts/{account}/sms/purchases"
    return _curl("POST", path, user=user, body={"item": item}, key=key)


def _purchase(user: str, item: dict[str, str], key: str) -> str:
    """Create a purchase (the Review purchase step), show it, and keep its id in $P."""
    return f"P=$({_purchase_request(MAIN_ACCOUNT, user, item, key)} | pick purchase_id)"


def _confirm(user: str) -> str:
    return _curl("POST", f"/v1/accounts/{MAIN_ACCOUNT}/sms/purchases/$P/confirm", user=user)


DEMO_ALERTS = {
    "low_balance_threshold": 1000,
    "auto_top_up": {"pack": DEMO_PACK, "below": 1000, "max_per_month": 3},
    "webhook_url": None,
}
DEMO_DRAIN = {"country": "BR", "recipients": 100, "text": "Last call!"}  # 400 credits


def walkthrough() -> str:
    """A copy-paste curl session through the seed's flow (API.md), after ``token_lines``.

    It can be pasted again after a later `make run`: the keys are fresh, and once acme
    has the add-on its first purchase is refused (409) and a credit pack is bought instead.
    """
    acme = f"/v1/accounts/{MAIN_ACCOUNT}/sms"
    addon = {"type": "addon", "tier": DEMO_TIER}
    pack = {"type": "credit_pack", "pack": DEMO_PACK}
    starter = STARTER.account_id
    steps = [
        PICK,
        RUN,
        "# Countries and the credits one message costs there -> 200",
        _curl("GET", "/v1/sms/countries"),
        "# The billing page (eligible: true), and the add-on tiers and credit packs for",
        "# acme's billing cycle -> 200 each",
        _curl("GET", acme, user="ana"),
        _curl("GET", f"{acme}/offers", user="ana"),
        f"# Add to plan: the {DEMO_TIER} add-on -> 201, the Review purchase step (its quote).",
        "# Once acme has the add-on (a later paste) that is 409 addon_already_active,",
        f"# and ana adds the {DEMO_PACK} credit pack instead -> 201",
        f"{_purchase('ana', addon, 'addon')} ||",
        f"  {_purchase('ana', pack, 'pack-ana')}",
        "# Confirm purchase: payment captured, credits granted -> 200, status completed",
        _confirm("ana"),
        "# The credits on the billing page, the credit ledger and the payments -> 200 each",
        _curl("GET", acme, user="ana"),
        _curl("GET", f"{acme}/ledger", user="ana"),
        _curl("GET", f"{acme}/payments", user="ana"),
        f"# Extra credits: the billing user buys {DEMO_PACK} (recurring) -> 201, confirms -> 200",
        _purchase("ben", pack, "pack-ben"),
        _confirm("ben"),
        "# Send 120 messages to Brazil -> 200 (credits debited, the balance after), then",
        "# estimate the same send (public, debits nothing) -> 200",
        _curl("POST", f"{acme}/usage", user="ana", body=DEMO_MESSAGE, key="send"),
        _curl("POST", "/v1/sms/estimate", body=DEMO_MESSAGE),
        "# Alerts: warn below 1,000 credits, and auto top-up (one-time credits of",
        f"# {DEMO_PACK}, at most 3 a month) below 1,000 -> 200; add a webhook_url to get",
        "# each event POSTed, signed (the secret is answered once). Spend 400 more credits",
        "# -> 200, then the events (low_balance; top_up.completed once it is bought) -> 200",
        _curl("PUT", f"{acme}/settings", user="ana", body=DEMO_ALERTS),
        _curl("POST", f"{acme}/usage", user="ana", body=DEMO_DRAIN, key="drain"),
        _curl("GET", f"{acme}/events", user="ana"),
        "# Refusals: a plain user -> 403 billing_permission_required; the Starter",
        f"# account {starter} (its billing page says eligible: false) -> 409 plan_not_eligible",
        _curl("POST", f"{acme}/purchases", user="cleo", body={"item": pack}, key="cleo"),
        _purchase_request(starter, STARTER.users[0].user_id, addon, "starter"),
    ]
    return "\n".join(f"  {step}" for step in steps)

"""The demo that `make run` seeds once through the real admin API: its accounts and
users (the walkthrough it prints is devstack/walkthrough.py).

The tokens are kept in a private file as each user is created, so a later run
prints them again and an interrupted seed resumes without creating anyone twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devstack.private_files import write_private
from domain.enums import BillingCycle, Currency, Locale, Plan, Role

MAIN_ACCOUNT = "acme"


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

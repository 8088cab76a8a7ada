"""The authorization table's test harness: one account with a user of every kind, another
account's user and the admin token; the outcome the table promises each of them; every
row of the database, to show that a refused request changed nothing; and the billing
page signed in over HTTP with a real session cookie and CSRF token."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import store.event_models
import store.operator_models  # noqa: F401
from application.authorization import Who
from domain.enums import AddonStatus, Role
from domain.events import DeliveryStatus, EventType
from store.db import transaction
from store.event_models import AlertSettings
from store.events import mark_delivery, record_event
from store.models import Account, AddonSubscription, Base
from store.receipt_models import ReceiptRow
from tests.purchase_support import Shop
from tests.support import ADMIN_TOKEN, bearer, create_account, create_user

PACK = {"type": "credit_pack", "pack": "pack-500"}
ADDON = {"type": "addon", "tier": "sms-1000"}
DECLINING = "pm_card_chargeDeclined"
QUIET_SECONDS = 0.2


class Member(StrEnum):
    """Who calls: the roles the table's rules speak of."""

    PRIMARY_ADMIN = "primary admin"
    ADMIN_WITHOUT_BILLING = "admin without the billing permission"
    USER_WITH_BILLING = "user with the billing permission"
    USER_WITHOUT_BILLING = "user without the billing permission"
    OTHER_ACCOUNT = "another account's primary admin"
    ADMIN_TOKEN = "the admin token"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    FORBIDDEN = "403 billing_permission_required"
    NOT_FOUND = "404 not_found"
    UNAUTHENTICATED = "401 unauthenticated"


REFUSED_STATUS = {Outcome.FORBIDDEN: 403, Outcome.NOT_FOUND: 404, Outcome.UNAUTHENTICATED: 401}
REFUSED_CODE = {
    Outcome.FORBIDDEN: "billing_permission_required",
    Outcome.NOT_FOUND: "not_found",
    Outcome.UNAUTHENTICATED: "unauthenticated",
}
MAY_BUY = {Member.PRIMARY_ADMIN, Member.USER_WITH_BILLING}
ACCOUNT_MEMBERS = [
    Member.PRIMARY_ADMIN,
    Member.ADMIN_WITHOUT_BILLING,
    Member.USER_WITH_BILLING,
    Member.USER_WITHOUT_BILLING,
]


def promised(who: Who, member: Member) -> Outcome:
    """What API.md's rules promise ``member`` for an action ``who`` may take; written
    from the rules, not from the code under test."""
    if who is Who.ADMIN_TOKEN:
        return Outcome.ALLOWED if member is Member.ADMIN_TOKEN else Outcome.UNAUTHENTICATED
    if member is Member.ADMIN_TOKEN:
        return Outcome.UNAUTHENTICATED
    if member is Member.OTHER_ACCOUNT:
        return Outcome.NOT_FOUND
    if who is Who.BILLING and member not in MAY_BUY:
        return Outcome.FORBIDDEN
    return Outcome.ALLOWED


def every_row(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the billing page's sign-in sessions aside)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "billing_page_sessions":
                continue
            found = session.execute(select(table)).all()
            rows[table.name] = sorted((tuple(r) for r in found), key=repr)
    return rows


async def quiet_rows(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows once nothing started earlier is still writing them."""
    before = every_row(sessions)
    while True:
        await asyncio.sleep(QUIET_SECONDS)
        after = every_row(sessions)
        if after == before:
            return after
        before = after


def csrf_of(response: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, response.text
    return match.group(1)


@dataclass
class PageUser:
    """A signed-in billing page: its session cookie and its forms' CSRF token."""

    api: httpx.AsyncClient
    session_id: str
    csrf: str

    async def get(self, path: str) -> httpx.Response:
        self.api.cookies.clear()
        return await self.api.get(
            path, headers={"Cookie": f"sms_billing_session={self.session_id}"}
        )

    async def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        self.api.cookies.clear()
        return await self.api.post(
            path,
            data={"csrf_token": self.csrf, **form},
            headers={"Cookie": f"sms_billing_session={self.session_id}"},
        )


async def sign_in(api: httpx.AsyncClient, token: str) -> PageUser | httpx.Response:
    """The page signed in with ``token``; the refusal when the token is not a user's."""
    api.cookies.clear()
    form = await api.get("/billing/sign-in")
    signed = await api.post(
        "/billing/sign-in", data={"api_token": token, "csrf_token": csrf_of(form)}
    )
    if signed.status_code != 303:
        return signed
    session_id = signed.cookies["sms_billing_session"]
    user = PageUser(api, session_id, "")
    page = await user.get("/billing")
    assert page.status_code == 200, page.text
    user.csrf = csrf_of(page)
    return user


@dataclass
class World:
    """The account every request is about, with a user of each kind, and its state."""

    shop: Shop
    headers: dict[Member, dict[str, str]]
    capture_id: str = ""
    attempts: int = 0
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        return self.shop.account_id

    def unique(self, prefix: str) -> str:
        self.attempts += 1
        return f"{prefix}-{self.attempts}-{uuid.uuid4().hex[:6]}"

    async def quote(self, item: dict[str, str]) -> str:
        response = await self.shop.buy(item)
        assert response.status_code == 201, response.text
        return str(response.json()["purchase_id"])

    async def pack_line(self) -> str:
        return str((await self.shop.bought(PACK))["purchase_id"])

    async def cancelling(self) -> None:
        path = f"/v1/accounts/{self.account_id}/sms/addon/cancel"
        response = await self.shop.api.post(path, headers=self.shop.admin)
        assert response.status_code == 200, response.text

    def failed_delivery(self) -> str:
        """An event whose webhook delivery failed. Its webhook has no secret, so the
        round a redelivery starts ends at once (dropped) and sends nothing."""
        now = datetime.now(UTC)
        with transaction(self.shop.sessions) as session:
            settings = session.get(AlertSettings, self.account_id)
            if settings is None:
                settings = AlertSettings(account_id=self.account_id, updated_at=now)
                session.add(settings)
            settings.webhook_url, settings.webhook_secret = "http://127.0.0.1:9/hooks", None
            event = record_event(
                session,
                account_id=self.account_id,
                type_=EventType.RENEWAL_COMPLETED,
                data={},
                at=now,
                key=self.unique("failed-delivery"),
            )
            mark_delivery(session, event.event_id, 0, DeliveryStatus.FAILED, now, "answered 410")
            return event.event_id

    async def past_due(self) -> None:
        """The next renewal's charge declined: the add-on waits for a retry."""
        with self.shop.sessions.begin() as session:
            account = session.get(Account, self.account_id)
            assert account is not None
            account.payment_method = DECLINING
        await self.shop.env.sleep(timedelta(days=32))
        for _ in range(200):
            with self.shop.sessions() as session:
                addon = session.get(AddonSubscription, self.account_id)
                if addon is not None and addon.status == AddonStatus.PAST_DUE.value:
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("the add-on never went past due")


async def open_world(shop: Shop) -> World:
    """The shop's users, an admin without the billing permission, another account's
        primary admin, the admin token; the add-on bought (its capture refundable, its
    receipt issued)."""
    admin = create_user(shop.sessions, shop.account_id, "ada", role=Role.ADMIN, now=shop.now)
    other_id = f"other-{uuid.uuid4().hex[:8]}"
    create_account(shop.sessions, other_id, anchor=shop.now.date(), now=shop.now)
    other = create_user(shop.sessions, other_id, "oto", role=Role.PRIMARY_ADMIN, now=shop.now)
    headers = {
        Member.PRIMARY_ADMIN: shop.admin,
        Member.ADMIN_WITHOUT_BILLING: bearer(admin),
        Member.USER_WITH_BILLING: shop.biller,
        Member.USER_WITHOUT_BILLING: shop.plain,
        Member.OTHER_ACCOUNT: bearer(other),
        Member.ADMIN_TOKEN: bearer(ADMIN_TOKEN),
    }
    world = World(shop, headers)
    bought = await shop.bought(ADDON)
    world.capture_id = bought["payment"]["payment_id"]
    world.ids["addon"] = bought["purchase_id"]
    with shop.sessions() as session:
        issued = select(ReceiptRow.receipt_id).where(ReceiptRow.payment_id == world.capture_id)
        world.ids["receipt"] = session.scalars(issued).one()
    return world


def token_of(world: World, member: Member) -> str:
    return world.headers[member]["Authorization"].removeprefix("Bearer ")

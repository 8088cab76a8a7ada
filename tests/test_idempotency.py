"""Idempotency-Key on every keyed POST, the same on SQLite and PostgreSQL (API.md
Conventions): a key's first use acts, the same request again answers the first
result, the same key with another request is 409 ``conflict``, a new key on a
finished resource is refused as any new request would be, and two accounts' keys
never meet. Permission comes before any of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.enums import Role
from store.caller_models import RequestFingerprint
from store.db import make_session_factory
from store.idempotency import KeyUse, same_request
from tests.operator_support import ops_post
from tests.purchase_support import Shop, open_shop
from tests.support import (
    POSTGRES_URL,
    bearer,
    create_account,
    create_user,
    fresh_database,
    migrated_engine,
)

ADDON = {"type": "addon", "tier": "sms-1000"}
PACK = {"type": "credit_pack", "pack": "pack-500"}
SEND = {"country": "BR", "recipients": 2, "text": "Sale ends tonight!"}
REFUND = {"amount_minor": 100, "reason": "goodwill"}


def test_a_keys_first_use_is_first(sessions: sessionmaker[Session]):
    def use(key: str, path: str, scope: str = "acme") -> KeyUse:
        now = datetime.now(UTC)
        return same_request(
            sessions, scope=scope, key=key, method="POST", path=path, body=None, now=now
        )

    assert use("k-1", "/confirm") is KeyUse.FIRST
    assert use("k-1", "/confirm") is KeyUse.REPEAT
    assert use("k-1", "/cancel") is KeyUse.CONFLICT
    assert use("k-1", "/cancel", scope="globex") is KeyUse.FIRST
    assert use("k-2", "/confirm") is KeyUse.FIRST


@pytest.fixture
async def shop(
    time_skipping_env: WorkflowEnvironment, sessions: sessionmaker[Session], database_url: str
) -> AsyncIterator[Shop]:
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        yield shop


def error_code(response: httpx.Response) -> str | None:
    body = response.json()
    return body["error"]["code"] if "error" in body else None


async def test_a_new_key_on_a_finished_purchase_is_refused(shop: Shop):
    quote = (await shop.buy(ADDON, key="buy-1")).json()
    purchase_id = quote["purchase_id"]
    done = await shop.confirm(purchase_id, key="confirm-1")
    assert (done.status_code, done.json()["status"]) == (200, "completed")

    confirm_again = await shop.confirm(purchase_id, key="confirm-2")
    assert (confirm_again.status_code, error_code(confirm_again)) == (
        409,
        "not_awaiting_confirmation",
    )
    cancel_after = await shop.cancel(purchase_id, key="cancel-1")
    assert (cancel_after.status_code, error_code(cancel_after)) == (
        409,
        "not_awaiting_confirmation",
    )
    # The key's own request again: its first result, charged once.
    repeat = await shop.confirm(purchase_id, key="confirm-1")
    assert (repeat.status_code, repeat.json()["status"]) == (200, "completed")
    assert shop.counts() == (1, 1)

    cancelled_id = (await shop.buy(PACK, key="buy-2")).json()["purchase_id"]
    cancelled = await shop.cancel(cancelled_id, key="cancel-2")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    for new_key in (
        shop.cancel(cancelled_id, key="cancel-3"),
        shop.confirm(cancelled_id, key="c-3"),
    ):
        refused = await new_key
        assert (refused.status_code, error_code(refused)) == (409, "not_awaiting_confirmation")
    assert (await shop.cancel(cancelled_id, key="cancel-2")).json()["status"] == "cancelled"


def fingerprints(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RequestFingerprint)) or 0)


async def test_permission_comes_before_the_key(shop: Shop):
    """A user without the billing permission gets 403 whatever the key and the
    purchase's state, and her refused request uses up no key."""
    done = await shop.bought(ADDON)
    awaiting = (await shop.buy(PACK, key="buy-pack")).json()["purchase_id"]
    await shop.confirm(done["purchase_id"], key="admin-confirm")
    keys_before = fingerprints(shop.sessions)

    for purchase_id in (done["purchase_id"], awaiting):
        for key in ("plain-1", "admin-confirm", None):
            for decide in (shop.confirm, shop.cancel):
                refused = await decide(purchase_id, shop.plain, key)
                assert (refused.status_code, error_code(refused)) == (
                    403,
                    "billing_permission_required",
                ), (purchase_id, key, decide.__name__, refused.text)
    # Nor does another user's key buy her that user's purchase: nothing is recorded.
    bought = await shop.buy(PACK, shop.plain, key="buy-pack")
    assert (bought.status_code, error_code(bought)) == (403, "billing_permission_required")
    assert "purchase" not in bought.json()["error"]
    assert fingerprints(shop.sessions) == keys_before
    # The key she tried is still new: the biller's first use of it acts.
    confirmed = await shop.confirm(awaiting, shop.biller, key="plain-1")
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "completed")
    assert shop.counts() == (2, 2)


# --- The same sequence of requests on SQLite and PostgreSQL, side by side ---------------


@dataclass
class Step:
    name: str
    status: int
    code: str | None


NO_PERMISSION = "billing_permission_required"
# What API.md says each step of ``drive`` answers.
EXPECTED = [
    Step("buy: first use of a key", 201, None),
    Step("buy: the same request again", 201, None),
    Step("buy: the same key for another item", 409, "conflict"),
    Step("buy without the billing permission: the admin's key", 403, NO_PERMISSION),
    Step("confirm: first use of a key", 200, None),
    Step("confirm: the same request again", 200, None),
    Step("cancel: the confirm's key on another path", 409, "conflict"),
    Step("confirm the completed purchase: a new key", 409, "not_awaiting_confirmation"),
    Step("cancel the completed purchase: a new key", 409, "not_awaiting_confirmation"),
    Step("confirm without the billing permission: a new key", 403, NO_PERMISSION),
    Step("confirm without the billing permission: the admin's key", 403, NO_PERMISSION),
    Step("cancel without the billing permission: the admin's key", 403, NO_PERMISSION),
    Step("send: first use of a key", 200, None),
    Step("send: the same request again", 200, None),
    Step("send: the same key for another message", 409, "conflict"),
    Step("refund: first use of a key", 201, None),
    Step("refund: the same request again", 201, None),
    Step("refund: the same key for another amount", 409, "conflict"),
    Step("refund the rest: a new key", 201, None),
    Step("refund the refunded capture: a new key", 409, "conflict"),
    Step("another account buys with the first account's key", 201, None),
    Step("another account confirms the first account's purchase with its key", 404, "not_found"),
    Step("another account sends with the first account's key", 409, "addon_not_active"),
]  # fmt: skip


def shape(value: Any) -> Any:
    """The body's structure: keys and value types, no values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


class Answers:
    """Each answer as (status, error code, body shape, what it says), ids replaced by
    the order they were first seen in, so two databases' answers compare equal."""

    FACTS = ("status", "credits_debited", "balance", "amount_minor", "credits_revoked")

    def __init__(self) -> None:
        self.answers: list[tuple[Any, ...]] = []
        self._ids: dict[str, str] = {}

    def add(self, response: httpx.Response) -> None:
        body = response.json()
        facts = {key: body[key] for key in self.FACTS if key in body}
        for field in ("purchase_id", "payment_id"):
            if field in body:
                facts[field] = self._ids.setdefault(body[field], f"{field}#{len(self._ids) + 1}")
        self.answers.append((response.status_code, error_code(response), shape(body), facts))


@dataclass
class Other:
    """A second account on the same service; its primary admin's bearer header."""

    account_id: str
    admin: dict[str, str]


async def drive(shop: Shop, other: Other) -> Answers:
    """The requests of ``EXPECTED``, in order, on one database."""
    answers = Answers()
    add = answers.add
    usage = f"/v1/accounts/{shop.account_id}/sms/usage"

    async def send(body: dict[str, Any], key: str, account_id: str = shop.account_id) -> None:
        headers = {**(shop.admin if account_id == shop.account_id else other.admin)}
        url = usage.replace(shop.account_id, account_id)
        add(await shop.api.post(url, json=body, headers={**headers, "Idempotency-Key": key}))

    add(first := await shop.buy(ADDON, key="k-buy"))
    add(await shop.buy(ADDON, key="k-buy"))
    add(await shop.buy(PACK, key="k-buy"))
    add(await shop.buy(ADDON, shop.plain, key="k-buy"))
    purchase_id = first.json()["purchase_id"]
    add(done := await shop.confirm(purchase_id, key="k-confirm"))
    add(await shop.confirm(purchase_id, key="k-confirm"))
    add(await shop.cancel(purchase_id, key="k-confirm"))
    add(await shop.confirm(purchase_id, key="k-confirm-2"))
    add(await shop.cancel(purchase_id, key="k-cancel"))
    add(await shop.confirm(purchase_id, shop.plain, key="k-plain"))
    add(await shop.confirm(purchase_id, shop.plain, key="k-confirm"))
    add(await shop.cancel(purchase_id, shop.plain, key="k-confirm"))

    await send(SEND, "k-send")
    await send(SEND, "k-send")
    await send({**SEND, "recipients": 3}, "k-send")

    payment = done.json()["payment"]
    refund = {**REFUND, "payment_id": payment["payment_id"]}
    add(await ops_post(shop, "/refunds", refund, key="k-refund"))
    add(await ops_post(shop, "/refunds", refund, key="k-refund"))
    add(await ops_post(shop, "/refunds", {**refund, "amount_minor": 101}, key="k-refund"))
    rest = payment["amount_minor"] - REFUND["amount_minor"]
    add(await ops_post(shop, "/refunds", {**refund, "amount_minor": rest}, key="k-refund-2"))
    add(await ops_post(shop, "/refunds", {**refund, "amount_minor": 1}, key="k-refund-3"))

    accounts = f"/v1/accounts/{shop.account_id}/"
    theirs = f"/v1/accounts/{other.account_id}/"
    buy = await shop.api.post(
        f"{theirs}sms/purchases",
        json={"item": ADDON},
        headers={**other.admin, "Idempotency-Key": "k-buy"},
    )
    add(buy)
    add(
        await shop.api.post(
            f"{accounts}sms/purchases/{purchase_id}/confirm",
            headers={**other.admin, "Idempotency-Key": "k-confirm"},
        )
    )
    await send(SEND, "k-send", account_id=other.account_id)
    return answers


def other_account(shop: Shop) -> Other:
    account_id = f"{shop.account_id}-other"
    create_account(shop.sessions, account_id, anchor=shop.now.date(), now=shop.now)
    token = create_user(shop.sessions, account_id, "oli", role=Role.PRIMARY_ADMIN, now=shop.now)
    return Other(account_id, bearer(token))


def assert_expected(answers: Answers) -> None:
    got = [(status, code) for status, code, _, _ in answers.answers]
    want = [(step.status, step.code) for step in EXPECTED]
    wrong = [
        f"{step.name}: got {g}, API.md says {w}"
        for step, g, w in zip(EXPECTED, got, want, strict=True)
        if g != w
    ]
    assert not wrong, "\n".join(wrong)


async def test_the_sequence_answers_as_api_md_says(shop: Shop):
    assert_expected(await drive(shop, other_account(shop)))


@contextmanager
def database_of(kind: str, tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    with fresh_database(kind, tmp_path / kind) as url:
        engine = migrated_engine(url)
        try:
            yield url, make_session_factory(engine)
        finally:
            engine.dispose()


@asynccontextmanager
async def shop_on(kind: str, env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Shop]:
    with database_of(kind, tmp_path) as (url, sessions):
        async with open_shop(env, sessions, url) as shop:
            yield shop


@pytest.mark.skipif(not POSTGRES_URL, reason="compares with PostgreSQL: set TEST_DATABASE_URL")
async def test_sqlite_and_postgresql_answer_the_same(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
):
    answers: dict[str, Answers] = {}
    for kind in ("sqlite", "postgresql"):
        async with shop_on(kind, time_skipping_env, tmp_path) as shop:
            answers[kind] = await drive(shop, other_account(shop))
    side_by_side = zip(
        EXPECTED, answers["sqlite"].answers, answers["postgresql"].answers, strict=True
    )
    different = [
        f"{step.name}:\n  sqlite     {lite}\n  postgresql {pg}"
        for step, lite, pg in side_by_side
        if lite != pg
    ]
    assert not different, "\n".join(different)
    assert_expected(answers["sqlite"])

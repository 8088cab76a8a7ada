"""Issue 8, cases 2-5: hostile and loose input answers 4xx, the same on SQLite and
PostgreSQL, and never reaches the database or a workflow (API.md Conventions)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain.enums import Role
from store.caller_models import RequestFingerprint
from store.ledger_models import CreditEntry
from store.models import Account, Purchase, User
from tests.support import ADMIN_TOKEN, api_client, bearer, settings_for
from tests.test_usage import account_with_user, balance_and_debits, grant

USAGE = "/v1/accounts/acme/sms/usage"
PURCHASES = "/v1/accounts/acme/sms/purchases"
INVALID_JSON = "The body is not valid JSON."


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _fields(response) -> set[str]:
    return {detail["field"] for detail in response.json()["error"]["details"]}


@pytest.fixture
def token(sessions: sessionmaker[Session]) -> str:
    token = account_with_user(sessions, role=Role.PRIMARY_ADMIN)
    grant(sessions, "acme", 1000)
    return token


@pytest.fixture
async def api(database_url: str, engine) -> AsyncIterator[httpx.AsyncClient]:
    # No Temporal: nothing here may get as far as a workflow.
    async with api_client(settings_for(database_url), None) as client:
        yield client


@pytest.fixture
def admin() -> Iterator[dict[str, str]]:
    yield bearer(ADMIN_TOKEN)


# Case 2: what answered 500 on PostgreSQL answers 4xx on both databases.


@pytest.mark.parametrize(
    "item",
    [
        {"type": "addon", "tier": "t" * 65},
        {"type": "addon", "tier": "sms-\x00500"},
        {"type": "credit_pack", "pack": "p" * 200},
        {"type": "credit_pack", "pack": "pack\x00"},
    ],
)
async def test_long_or_nul_item_ids_are_refused(api, token, sessions, item):
    response = await api.post(PURCHASES, json={"item": item}, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert _count(sessions, Purchase) == 0


async def test_nul_in_an_account_name_or_a_user_email_is_refused(api, engine, sessions, admin):
    account = {"name": "Ac\x00me", "plan": "plus"}
    named = await api.put("/v1/admin/accounts/acme", json=account, headers=admin)
    assert named.status_code == 422, named.text
    assert _fields(named) == {"name"}
    assert _count(sessions, Account) == 0
    created = await api.put(
        "/v1/admin/accounts/acme", json={"name": "Acme", "plan": "plus"}, headers=admin
    )
    assert created.status_code == 201
    user = {"user_id": "ana", "email": "ana\x00@acme.test", "role": "user"}
    added = await api.post("/v1/admin/accounts/acme/users", json=user, headers=admin)
    assert added.status_code == 422, added.text
    assert _fields(added) == {"email"}
    too_long = {**user, "email": "a" * 250 + "@b.io"}
    assert (
        await api.post("/v1/admin/accounts/acme/users", json=too_long, headers=admin)
    ).status_code == 422
    assert _count(sessions, User) == 0


@pytest.mark.parametrize("purchase_id", ["pur%00x", "%00", "x" * 10_000, "PUR_1"])
async def test_hostile_purchase_ids_in_the_path_are_refused(api, token, purchase_id):
    read = await api.get(f"{PURCHASES}/{purchase_id}", headers=bearer(token))
    confirm = await api.post(f"{PURCHASES}/{purchase_id}/confirm", headers=bearer(token))
    cancel = await api.post(f"{PURCHASES}/{purchase_id}/cancel", headers=bearer(token))
    for response in (read, confirm, cancel):
        assert response.status_code == 422, response.text
        assert _fields(response) == {"path.purchase_id"}


async def test_a_255_character_idempotency_key_sends_once(api, token, sessions):
    key = "k" * 255
    send = {"country": "BR", "recipients": 1, "text": "hi"}
    first = await api.post(USAGE, json=send, headers={**bearer(token), "Idempotency-Key": key})
    again = await api.post(USAGE, json=send, headers={**bearer(token), "Idempotency-Key": key})
    assert first.status_code == 200, first.text
    assert again.json() == first.json() == {"credits_debited": 4, "balance": 996}
    assert balance_and_debits(sessions, "acme") == (996, 1)
    with sessions() as session:
        stored = session.scalars(select(RequestFingerprint)).one()
        debit = session.scalars(select(CreditEntry).where(CreditEntry.credits < 0)).one()
    assert len(stored.key_digest) == 64 and key not in stored.key_digest
    assert len(debit.idempotency_key) <= 255


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there", "é".encode()])
async def test_idempotency_keys_are_1_to_255_printable_characters(api, token, sessions, key):
    send = {"country": "BR", "recipients": 1, "text": "hi"}
    response = await api.post(USAGE, json=send, headers={**bearer(token), "Idempotency-Key": key})
    assert response.status_code == 422, response.text
    assert _count(sessions, RequestFingerprint) == 0
    assert balance_and_debits(sessions, "acme") == (1000, 0)


# Case 3: a request no workflow could carry is refused before any purchase exists.


async def test_a_megabyte_tier_id_is_refused_and_nothing_is_recorded(api, token, sessions):
    huge = {"item": {"type": "addon", "tier": "t" * 1_100_000}}
    response = await api.post(PURCHASES, json=huge, headers=bearer(token))
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    large = {"item": {"type": "addon", "tier": "t" * 60_000}}  # under the body limit
    refused = await api.post(PURCHASES, json=large, headers=bearer(token))
    assert refused.status_code == 422, refused.text
    assert _count(sessions, Purchase) == 0
    assert _count(sessions, RequestFingerprint) == 0


async def test_a_streamed_body_over_the_limit_is_refused(api, token, sessions):
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"country": "BR", "recipients": 1, "text": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    response = await api.post(USAGE, content=chunks(), headers=bearer(token))
    assert response.status_code == 413, response.text
    assert balance_and_debits(sessions, "acme") == (1000, 0)


# Case 4: the same key with a different request is a conflict, not the first result.


async def test_same_key_different_send_is_a_conflict(api, token, sessions):
    headers = {**bearer(token), "Idempotency-Key": "u-1"}
    first = {"country": "BR", "recipients": 1, "text": "hi"}  # 4 credits
    other = {"country": "CA", "recipients": 4, "text": "totally different"}  # 4 credits too
    sent = await api.post(USAGE, json=first, headers=headers)
    conflict = await api.post(USAGE, json=other, headers=headers)
    reordered = await api.post(
        USAGE,
        content=b'{"text":"hi", "recipients":1,"country":"BR"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert sent.status_code == 200, sent.text
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["error"]["code"] == "conflict"
    assert reordered.status_code == 200 and reordered.json() == sent.json()
    assert balance_and_debits(sessions, "acme") == (996, 1)


async def test_same_key_on_another_path_is_a_conflict(api, token, sessions):
    headers = {**bearer(token), "Idempotency-Key": "k-2"}
    sent = await api.post(
        USAGE, json={"country": "BR", "recipients": 1, "text": "hi"}, headers=headers
    )
    assert sent.status_code == 200
    purchase = {"item": {"type": "addon", "tier": "sms-500"}}
    reused = await api.post(PURCHASES, json=purchase, headers=headers)
    assert reused.status_code == 409, reused.text
    assert reused.json()["error"]["code"] == "conflict"
    assert _count(sessions, Purchase) == 0


# Case 5: JSON types are strict and unparseable bodies answer one readable 422.


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipients": "1"}, "recipients"),
        ({"recipients": True}, "recipients"),
        ({"recipients": 1.0}, "recipients"),
        ({"country": "br"}, "country"),
        ({"text": "a\x00b"}, "text"),
    ],
)
async def test_loose_send_fields_are_refused(api, token, sessions, change, field):
    send = {"country": "BR", "recipients": 1, "text": "hi", **change}
    response = await api.post(USAGE, json=send, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert _fields(response) == {field}
    assert balance_and_debits(sessions, "acme") == (1000, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"billing_anchor": 0}, "billing_anchor"),
        ({"billing_anchor": "1700000000"}, "billing_anchor"),
        ({"plan": 1}, "plan"),
        ({"name": 5}, "name"),
    ],
)
async def test_loose_account_fields_are_refused(api, engine, sessions, admin, change, field):
    account = {"name": "Acme", "plan": "plus", **change}
    response = await api.put("/v1/admin/accounts/acme", json=account, headers=admin)
    assert response.status_code == 422, response.text
    assert _fields(response) == {field}
    assert _count(sessions, Account) == 0


@pytest.mark.parametrize("permission", ["yes", 0, 1, "true", None])
async def test_billing_permission_is_a_json_boolean(api, engine, sessions, admin, permission):
    await api.put("/v1/admin/accounts/acme", json={"name": "Acme", "plan": "plus"}, headers=admin)
    user = {"user_id": "ben", "email": "ben@acme.test", "role": "user"}
    response = await api.post(
        "/v1/admin/accounts/acme/users",
        json={**user, "billing_permission": permission},
        headers=admin,
    )
    assert response.status_code == 422, response.text
    assert _fields(response) == {"billing_permission"}
    assert _count(sessions, User) == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"country": "BR", "recipients": 1, "text": "caf\xe9"}',  # Latin-1, not UTF-8
        b'{"country": "BR",',
        b"[" * 10_000,
        b"[" * 40 + b"]" * 40,  # deeper than any request
        b'{"country": "BR", "recipients": NaN, "text": "hi"}',
        '{"country": "BR", "recipients": 1, "text": "hi"}'.encode("utf-16"),
    ],
)
async def test_a_body_that_is_not_json_answers_one_readable_422(api, token, sessions, body):
    response = await api.post(
        USAGE, content=body, headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("invalid_request", INVALID_JSON)
    assert _fields(response) == {"body"}
    assert balance_and_debits(sessions, "acme") == (1000, 0)


async def test_100k_nested_brackets_are_too_large(api, token):
    response = await api.post(USAGE, content=b"[" * 100_000, headers=bearer(token))
    assert response.status_code == 413, response.text


async def test_validation_errors_name_the_fields(api, token):
    missing = await api.post(PURCHASES, json={"item": {"type": "addon"}}, headers=bearer(token))
    assert missing.status_code == 422
    assert _fields(missing) == {"item.addon.tier"}
    assert "item.addon.tier" in missing.json()["error"]["message"]
    other_id = {"item": {"type": "addon", "tier": "sms-500", "pack": "pack-500"}}
    both = await api.post(PURCHASES, json=other_id, headers=bearer(token))
    assert both.status_code == 422 and _fields(both) == {"item.addon.pack"}

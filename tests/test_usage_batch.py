"""Batch sending through the real API: order, per-message results, exactly once by key."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from domain.enums import GrantSource
from tests.support import api_client, bearer, settings_for
from tests.test_usage import account_with_user, balance_and_debits, grant

BATCH = "/v1/accounts/acme/sms/usage/batch"


def message(key: str, country: str = "BR", recipients: int = 1) -> dict[str, object]:
    return {"country": country, "recipients": recipients, "text": "Hi", "idempotency_key": key}


async def test_a_batch_is_spent_in_order_until_credits_run_out(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", 10)
    messages = [
        message("a"),  # 4
        message("b", country="ZZ"),  # unknown country
        message("c", country="US"),  # no registration
        message("d"),  # 4
        message("e"),  # 4: only 2 left
        message("f", country="GB"),  # 2 would fit, but the batch is spent in order
    ]
    async with api_client(settings_for(database_url), None) as api:
        sent = await api.post(BATCH, json={"messages": messages}, headers=bearer(token))
    assert sent.status_code == 200, sent.text
    assert sent.json() == {
        "results": [
            {"credits_debited": 4, "code": None},
            {"credits_debited": 0, "code": "invalid_request"},
            {"credits_debited": 0, "code": "registration_required"},
            {"credits_debited": 4, "code": None},
            {"credits_debited": 0, "code": "insufficient_credits"},
            {"credits_debited": 0, "code": "insufficient_credits"},
        ],
        "balance": 2,
    }
    assert balance_and_debits(sessions, "acme") == (2, 2)


async def test_each_message_is_debited_once_by_its_key(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", 100)
    first = [message("m1"), message("m2"), message("m1")]  # m1 twice in one call
    async with api_client(settings_for(database_url), None) as api:
        sent = await api.post(BATCH, json={"messages": first}, headers=bearer(token))
        again = await api.post(
            BATCH, json={"messages": [message("m2"), message("m3")]}, headers=bearer(token)
        )
        # A single send with a batch message's key is that same debit.
        single = await api.post(
            "/v1/accounts/acme/sms/usage",
            json={"country": "BR", "recipients": 1, "text": "Hi"},
            headers={**bearer(token), "Idempotency-Key": "m3"},
        )
        changed = await api.post(
            BATCH, json={"messages": [message("m1", recipients=2)]}, headers=bearer(token)
        )
    assert [r["credits_debited"] for r in sent.json()["results"]] == [4, 4, 4]
    assert sent.json()["balance"] == 92
    assert again.json() == {
        "results": [{"credits_debited": 4, "code": None}, {"credits_debited": 4, "code": None}],
        "balance": 88,
    }
    assert single.json() == {"credits_debited": 4, "balance": 88}
    assert changed.json()["results"] == [{"credits_debited": 0, "code": "invalid_request"}]
    assert balance_and_debits(sessions, "acme") == (88, 3)


async def test_expired_credits_are_not_spent(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", 100, expires_in=timedelta(seconds=-1), key="lapsed")
    grant(sessions, "acme", 4, source=GrantSource.ADJUSTMENT, key="fresh")
    async with api_client(settings_for(database_url), None) as api:
        sent = await api.post(
            BATCH, json={"messages": [message("x"), message("y")]}, headers=bearer(token)
        )
    codes = [r["code"] for r in sent.json()["results"]]
    assert codes == [None, "insufficient_credits"]


async def test_batch_shape_is_validated(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", 100)
    bodies = [
        {"messages": []},
        {"messages": [message(str(n)) for n in range(1001)]},
        {"messages": [{**message("k"), "idempotency_key": ""}]},
        {"messages": [{**message("k"), "recipients": 0}]},
    ]
    async with api_client(settings_for(database_url), None) as api:
        for body in bodies:
            response = await api.post(BATCH, json=body, headers=bearer(token))
            assert response.status_code == 422
            assert response.json()["error"]["code"] == "invalid_request"
        anonymous = await api.post(BATCH, json={"messages": [message("k")]})
    assert anonymous.status_code == 401
    assert balance_and_debits(sessions, "acme") == (100, 0)


async def test_parallel_requests_through_the_api_debit_each_key_once(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", 1000)
    single = {"country": "BR", "recipients": 1, "text": "Hi"}
    async with api_client(settings_for(database_url), None) as api:
        sends = [
            api.post(
                "/v1/accounts/acme/sms/usage",
                json=single,
                headers={**bearer(token), "Idempotency-Key": f"s{n % 5}"},
            )
            for n in range(20)
        ]
        batches = [
            api.post(
                BATCH,
                json={"messages": [message(f"b{(n + i) % 12}") for i in range(6)]},
                headers=bearer(token),
            )
            for n in range(10)
        ]
        responses = await asyncio.gather(*sends, *batches)
    assert {r.status_code for r in responses} == {200}
    # 5 distinct single keys and 12 distinct batch keys, 4 credits each.
    assert balance_and_debits(sessions, "acme") == (1000 - 4 * 17, 17)

"""Admin endpoints, auth and the error format, against the real app and database."""

from __future__ import annotations

from sqlalchemy import select

from application.security import hash_token
from store.caller_models import ApiToken
from store.db import make_engine, make_session_factory
from tests.support import ADMIN_TOKEN, api_client, bearer, settings_for

ACME = {
    "name": "Acme",
    "plan": "plus",
    "billing_cycle": "monthly",
    "billing_anchor": "2026-11-26",
    "payment_method": "pm_card_visa",
}


async def test_create_then_update_account(engine, database_url):
    async with api_client(settings_for(database_url), None) as api:
        created = await api.put("/v1/admin/accounts/acme", json=ACME, headers=bearer(ADMIN_TOKEN))
        assert created.status_code == 201, created.text
        assert created.json()["billing_anchor"] == "2026-11-26"
        updated = await api.put(
            "/v1/admin/accounts/acme", json={"plan": "enterprise"}, headers=bearer(ADMIN_TOKEN)
        )
        assert updated.status_code == 200
        body = updated.json()
        assert body["plan"] == "enterprise"
        assert body["name"] == "Acme" and body["payment_method"] == "pm_card_visa"


async def test_invalid_account_names_fields(engine, database_url):
    async with api_client(settings_for(database_url), None) as api:
        bad = await api.put(
            "/v1/admin/accounts/acme",
            json={"name": "Acme", "plan": "gold", "billing_cycle": "weekly"},
            headers=bearer(ADMIN_TOKEN),
        )
        assert bad.status_code == 422
        error = bad.json()["error"]
        assert error["code"] == "invalid_request"
        assert {d["field"] for d in error["details"]} == {"plan", "billing_cycle"}
        missing = await api.put("/v1/admin/accounts/acme", json={}, headers=bearer(ADMIN_TOKEN))
        assert missing.status_code == 422
        assert {d["field"] for d in missing.json()["error"]["details"]} == {"name", "plan"}
        bad_id = await api.put("/v1/admin/accounts/Bad!", json=ACME, headers=bearer(ADMIN_TOKEN))
        assert bad_id.status_code == 422
        assert bad_id.json()["error"]["details"][0]["field"] == "path.account_id"


async def test_admin_paths_need_the_admin_token(engine, database_url):
    async with api_client(settings_for(database_url), None) as api:
        for headers in ({}, bearer("wrong")):
            response = await api.put("/v1/admin/accounts/acme", json=ACME, headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthenticated"
        await api.put("/v1/admin/accounts/acme", json=ACME, headers=bearer(ADMIN_TOKEN))
        user = await api.post(
            "/v1/admin/accounts/acme/users",
            json={"user_id": "ana", "email": "ana@acme.test", "role": "primary_admin"},
            headers=bearer(ADMIN_TOKEN),
        )
        assert user.status_code == 201
        as_user = await api.put(
            "/v1/admin/accounts/acme", json=ACME, headers=bearer(user.json()["token"])
        )
        assert as_user.status_code == 401


async def test_user_tokens_are_stored_only_as_hashes(engine, database_url):
    async with api_client(settings_for(database_url), None) as api:
        await api.put("/v1/admin/accounts/acme", json=ACME, headers=bearer(ADMIN_TOKEN))
        body = {"user_id": "ana", "email": "ana@acme.test", "role": "user"}
        first = await api.post(
            "/v1/admin/accounts/acme/users", json=body, headers=bearer(ADMIN_TOKEN)
        )
        again = await api.post(
            "/v1/admin/accounts/acme/users", json=body, headers=bearer(ADMIN_TOKEN)
        )
        unknown = await api.post(
            "/v1/admin/accounts/nope/users", json=body, headers=bearer(ADMIN_TOKEN)
        )
    assert first.status_code == 201 and again.status_code == 409 and unknown.status_code == 404
    token = first.json()["token"]
    sessions = make_session_factory(make_engine(database_url))
    with sessions() as session:
        stored = session.scalars(select(ApiToken)).all()
    assert [t.token_hash for t in stored] == [hash_token(token)]
    assert token not in {t.token_hash for t in stored}

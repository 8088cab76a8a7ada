"""Sending debits and estimates through the real API and database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain.enums import EntryKind, GrantSource, RegistrationStatus, Role
from store.db import transaction
from store.ledger import grant_credits
from store.ledger_models import CreditEntry, CreditGrant
from store.models import Account
from store.registration_models import A2pRegistration
from tests.support import (
    add_addon_row,
    api_client,
    bearer,
    create_account,
    create_user,
    settings_for,
)

NOW = datetime.now(UTC)
SALE = {"country": "BR", "recipients": 120, "text": "Sale ends tonight!"}  # 4 × 1 × 120
SALE_CREDITS = 480


def grant(
    sessions: sessionmaker[Session],
    account_id: str,
    credits: int,
    *,
    source: GrantSource = GrantSource.ADDON,
    expires_in: timedelta | None = timedelta(days=30),
    key: str = "monthly",
) -> int:
    with transaction(sessions) as session:
        block = grant_credits(
            session,
            account_id=account_id,
            source=source,
            credits=credits,
            expires_at=None if expires_in is None else NOW + expires_in,
            at=NOW - timedelta(minutes=1),
            reference=key,
            key=f"{account_id}:{key}",
        )
        return block.id


def account_with_user(
    sessions: sessionmaker[Session], account_id: str = "acme", role: Role = Role.USER
) -> str:
    create_account(sessions, account_id, anchor=date(2026, 1, 1), now=NOW)
    add_addon_row(sessions, account_id, now=NOW)
    return create_user(sessions, account_id, "ana", role=role, now=NOW)


def balance_and_debits(sessions: sessionmaker[Session], account_id: str) -> tuple[int, int]:
    with sessions() as session:
        account = session.get(Account, account_id)
        assert account is not None
        debits = session.scalar(
            select(func.count())
            .select_from(CreditEntry)
            .where(CreditEntry.account_id == account_id, CreditEntry.kind == EntryKind.DEBIT)
        )
        return account.credit_balance, int(debits or 0)


async def test_a_send_debits_rate_times_segments_times_recipients(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", 1000)
    async with api_client(settings_for(database_url), None) as api:
        sent = await api.post("/v1/accounts/acme/sms/usage", json=SALE, headers=bearer(token))
        long_text = {"country": "GB", "recipients": 2, "text": "x" * 161}  # 3 × 2 × 2
        longer = await api.post(
            "/v1/accounts/acme/sms/usage", json=long_text, headers=bearer(token)
        )
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"credits_debited": SALE_CREDITS, "balance": 1000 - SALE_CREDITS}
    assert longer.json() == {"credits_debited": 12, "balance": 1000 - SALE_CREDITS - 12}
    assert balance_and_debits(sessions, "acme") == (1000 - SALE_CREDITS - 12, 2)


async def test_insufficient_credits_debit_nothing(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", SALE_CREDITS - 1)
    async with api_client(settings_for(database_url), None) as api:
        refused = await api.post("/v1/accounts/acme/sms/usage", json=SALE, headers=bearer(token))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "insufficient_credits"
    assert balance_and_debits(sessions, "acme") == (SALE_CREDITS - 1, 0)
    with sessions() as session:
        assert session.scalars(select(CreditGrant.remaining)).all() == [SALE_CREDITS - 1]


async def test_unknown_country_and_bad_bodies_are_422(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", 1000)
    bad_bodies = {
        "country": {**SALE, "country": "ZZ"},
        "recipients": {**SALE, "recipients": 0},
        "text": {**SALE, "text": ""},
        "priority": {**SALE, "priority": "high"},  # unknown fields are refused
    }
    async with api_client(settings_for(database_url), None) as api:
        for field, body in bad_bodies.items():
            response = await api.post(
                "/v1/accounts/acme/sms/usage", json=body, headers=bearer(token)
            )
            assert response.status_code == 422, field
            error = response.json()["error"]
            assert error["code"] == "invalid_request"
            assert field in {d["field"] for d in error["details"]}
        too_long_key = await api.post(
            "/v1/accounts/acme/sms/usage",
            json=SALE,
            headers={**bearer(token), "Idempotency-Key": "k" * 256},
        )
        assert too_long_key.status_code == 422
    assert balance_and_debits(sessions, "acme") == (1000, 0)


async def test_the_same_idempotency_key_debits_once(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", 1000)
    headers = {**bearer(token), "Idempotency-Key": "send-42"}
    async with api_client(settings_for(database_url), None) as api:
        first = await api.post("/v1/accounts/acme/sms/usage", json=SALE, headers=headers)
        again = await api.post("/v1/accounts/acme/sms/usage", json=SALE, headers=headers)
        other = {**SALE, "recipients": 1}
        reused = await api.post("/v1/accounts/acme/sms/usage", json=other, headers=headers)
        unkeyed = await api.post("/v1/accounts/acme/sms/usage", json=SALE, headers=bearer(token))
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"credits_debited": 480, "balance": 520}
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "conflict"
    assert unkeyed.json() == {"credits_debited": 480, "balance": 40}
    assert balance_and_debits(sessions, "acme") == (40, 2)


async def test_another_accounts_token_gets_404_and_no_token_401(sessions, database_url):
    account_with_user(sessions, "acme")
    other = account_with_user(sessions, "globex")
    grant(sessions, "acme", 1000)
    async with api_client(settings_for(database_url), None) as api:
        foreign = await api.post("/v1/accounts/acme/sms/usage", json=SALE, headers=bearer(other))
        anonymous = await api.post("/v1/accounts/acme/sms/usage", json=SALE)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    assert anonymous.status_code == 401
    assert balance_and_debits(sessions, "acme") == (1000, 0)


async def test_us_sends_need_an_approved_registration(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", 1000)
    us = {"country": "US", "recipients": 10, "text": "Hi"}
    async with api_client(settings_for(database_url), None) as api:
        refused = await api.post("/v1/accounts/acme/sms/usage", json=us, headers=bearer(token))
        for status in (RegistrationStatus.CAMPAIGN_PENDING, RegistrationStatus.APPROVED):
            with transaction(sessions) as session:
                session.merge(
                    A2pRegistration(
                        account_id="acme",
                        status=status.value,
                        brand={},
                        campaign={},
                        submission=1,
                        submitted_at=NOW,
                        updated_at=NOW,
                    )
                )
            response = await api.post("/v1/accounts/acme/sms/usage", json=us, headers=bearer(token))
            expected = 200 if status is RegistrationStatus.APPROVED else 409
            assert response.status_code == expected, status
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "registration_required"
    assert balance_and_debits(sessions, "acme") == (990, 1)


async def test_debits_spend_the_soonest_expiring_grant_first(sessions, database_url):
    token = account_with_user(sessions)
    monthly = grant(sessions, "acme", 1000, expires_in=timedelta(days=30))
    forever = grant(sessions, "acme", 100, expires_in=None, key="forever")
    goodwill = grant(
        sessions,
        "acme",
        300,
        source=GrantSource.ADJUSTMENT,
        expires_in=timedelta(days=5),
        key="goodwill",
    )
    async with api_client(settings_for(database_url), None) as api:
        sent = await api.post("/v1/accounts/acme/sms/usage", json=SALE, headers=bearer(token))
    assert sent.json() == {"credits_debited": SALE_CREDITS, "balance": 1400 - SALE_CREDITS}
    with sessions() as session:
        remaining = dict(session.execute(select(CreditGrant.id, CreditGrant.remaining)).all())
    assert remaining == {goodwill: 0, monthly: 1000 - (SALE_CREDITS - 300), forever: 100}


async def test_estimate_is_public_and_debits_nothing(sessions, database_url):
    account_with_user(sessions)
    grant(sessions, "acme", 1000)
    async with api_client(settings_for(database_url), None) as api:
        gsm = await api.post("/v1/sms/estimate", json=SALE)
        ucs = await api.post(
            "/v1/sms/estimate", json={"country": "DE", "recipients": 3, "text": "ж" * 71}
        )
        unknown = await api.post("/v1/sms/estimate", json={**SALE, "country": "ZZ"})
    assert gsm.json() == {
        "encoding": "gsm7",
        "segments": 1,
        "credits_per_recipient": 4,
        "credits": SALE_CREDITS,
    }
    assert ucs.json() == {
        "encoding": "ucs2",
        "segments": 2,
        "credits_per_recipient": 12,
        "credits": 36,
    }
    assert unknown.status_code == 422
    assert balance_and_debits(sessions, "acme") == (1000, 0)

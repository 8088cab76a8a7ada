"""Webhook secrets in the Standard Webhooks form: new ones, the ones issued before it
(rewritten by migration 0011 to the same key), and the carrier webhook's setting."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from alembic import command
from pydantic import ValidationError
from sqlalchemy import text
from standardwebhooks import Webhook

from config.settings import Settings
from outbound.webhook_signing import is_secret, new_secret, signature_headers, verified
from store.db import make_engine
from store.migrate import alembic_config, upgrade_to_head

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_new_secrets_are_whsec_and_standard_base64_of_32_random_bytes() -> None:
    secret = new_secret()
    assert is_secret(secret) and secret != new_secret()
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


@pytest.mark.parametrize(
    "value",
    ["", "test-webhook-secret", "whsec_", "whsec_not base64!", "whsec_" + "QUJD" * 4],
)
def test_other_forms_are_not_secrets(value: str) -> None:
    assert not is_secret(value)  # the last one is 12 bytes: too short


def test_a_signature_verifies_with_the_receivers_package_and_nothing_else() -> None:
    secret, body = new_secret(), b'{"event_id":"evt_1"}'
    headers = signature_headers(secret, "evt_1", datetime.now(UTC), body)
    assert Webhook(secret).verify(body, headers) == {"event_id": "evt_1"}
    assert verified(secret, body, headers)
    assert not verified(new_secret(), body, headers)
    assert not verified(secret, body + b" ", headers)
    assert not verified("", body, headers)
    stale = signature_headers(secret, "evt_1", NOW.replace(year=2025), body)
    assert not verified(secret, body, stale)


def test_migration_0011_keeps_the_key_of_a_secret_issued_before(sqlite_url: str) -> None:
    """Old secrets were whsec_ + URL-safe base64 (the receiver's copy too): rewritten
    to the same key bytes in the standard alphabet, so signatures keep their key."""
    key = bytes(range(200, 232))  # its URL-safe base64 has "-" and "_" in it
    old = "whsec_" + base64.urlsafe_b64encode(key).decode().rstrip("=")
    assert "-" in old or "_" in old
    engine = make_engine(sqlite_url)
    try:
        config = alembic_config(sqlite_url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0010")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO accounts (id, name, plan, billing_cycle, billing_anchor,"
                    " payment_method, credit_balance, created_at, updated_at) VALUES"
                    " ('acme', 'Acme', 'plus', 'monthly', '2026-12-01', 'pm_card_visa', 0,"
                    " :now, :now)"
                ),
                {"now": NOW},
            )
            connection.execute(
                text(
                    "INSERT INTO alert_settings (account_id, webhook_url, webhook_secret,"
                    " updated_at) VALUES ('acme', 'https://hooks.example.test/', :secret, :now)"
                ),
                {"secret": old, "now": NOW},
            )
        upgrade_to_head(engine)
        with engine.connect() as connection:
            migrated = connection.execute(
                text("SELECT webhook_secret FROM alert_settings")
            ).scalar()
    finally:
        engine.dispose()
    assert isinstance(migrated, str) and is_secret(migrated)
    assert base64.b64decode(migrated.removeprefix("whsec_")) == key
    signed = Webhook(migrated).sign("evt_1", NOW, "{}")
    expected = hmac.new(
        key, b"evt_1." + str(int(NOW.timestamp())).encode() + b".{}", hashlib.sha256
    )
    assert signed == "v1," + base64.b64encode(expected.digest()).decode()


def test_the_carrier_webhook_secret_must_be_a_standard_webhooks_secret() -> None:
    assert Settings(sms_webhook_secret="").sms_webhook_secret.get_secret_value() == ""
    secret = new_secret()
    assert Settings(sms_webhook_secret=secret).sms_webhook_secret.get_secret_value() == secret
    with pytest.raises(ValidationError, match="whsec_"):
        Settings(sms_webhook_secret="test-webhook-secret")

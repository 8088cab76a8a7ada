"""``sms-addon ops …`` against the real app (over ASGI): each command does what its
HTTP action does, a repeated command acts once, a refusal exits non-zero, and against
an API on this machine it finds the token `make run` keeps. ``sms-addon --help`` names
every command in plain words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from boundary.options import GATEWAY_PATIENCE, OUTAGE_LONGEST_PAUSE
from config.settings import DEV_ADMIN_TOKEN_FILE, get_settings
from starter.api.app import build_services, create_app
from starter.cli import build_parser
from starter.cli.ops import build_ops_parser, run_ops
from tests.invariants import check_money
from tests.operator_support import audit_rows, refunds_of
from tests.purchase_support import Shop, open_shop
from tests.stripe_support import ProviderLink, intents_of, stripe_shop
from tests.stripe_support import refunds_of as stripe_refunds_of
from tests.support import ADMIN_TOKEN, settings_for

ADDON = {"type": "addon", "tier": "sms-1000"}


@pytest.fixture
def admin_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SMS_ADMIN_TOKEN", ADMIN_TOKEN)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def transport_for(shop: Shop, database_url: str, **settings_: Any) -> httpx.ASGITransport:
    settings = settings_for(database_url, sms_task_queue=shop.task_queue, **settings_)
    app = create_app(settings)
    app.state.services = build_services(settings, shop.env.client)
    return httpx.ASGITransport(app=app)


async def ops(
    transport: httpx.ASGITransport, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, Any]:
    code = await run_ops(["--api", "http://test", "--operator", "carl", *argv], transport)
    captured = capsys.readouterr()
    return code, json.loads(captured.out if code == 0 else captured.err.split("\nsms-addon")[0])


async def test_ops_commands_act_once_and_are_audited(
    time_skipping_env, sqlite_sessions, sqlite_url, admin_env, capsys
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        bought = await shop.bought(ADDON)
        payment_id = bought["payment"]["payment_id"]
        transport = transport_for(shop, sqlite_url)
        account = shop.account_id
        refund = ("refund", account, payment_id, "300", "--reason", "billing error")

        code, first = await ops(transport, capsys, *refund)
        assert code == 0, first
        code, again = await ops(transport, capsys, *refund)  # the same command: one refund
        assert code == 0 and again == first
        assert len(refunds_of(shop, payment_id)) == 1
        code, second = await ops(transport, capsys, *refund, "--key", "second")
        assert code == 0 and second != first
        assert sum(p.amount_minor for p in refunds_of(shop, payment_id)) == 600

        code, error = await ops(transport, capsys, "refund", account, payment_id, "999999",
                                "--reason", "too much")  # fmt: skip
        assert code == 1 and error == {"error": error["error"]}
        assert error["error"]["code"] == "conflict"

        code, granted = await ops(transport, capsys, "goodwill", account, "40", "--reason", "sorry")
        assert code == 0 and isinstance(granted, dict) and granted["credits"] == 40
        code, _ = await ops(transport, capsys, "goodwill", account, "40", "--reason", "sorry")
        assert code == 0

        code, refused = await ops(transport, capsys, "retry-payment", account)
        assert code == 1 and isinstance(refused, dict)
        assert refused["error"]["code"] == "not_past_due"

        code, ended = await ops(transport, capsys, "cancel", account, "--when", "now")
        assert code == 0 and isinstance(ended, dict) and ended["status"] == "cancelled"

        code, listed = await ops(transport, capsys, "audit", account)
        assert code == 0 and isinstance(listed, dict)
        assert [(a["action"], a["operator"]) for a in listed["audit"]] == [
            ("end_now", "carl"),
            ("goodwill", "carl"),
            ("refund", "carl"),
            ("refund", "carl"),
        ]
        assert len(audit_rows(shop)) == 4
        check_money(shop.sessions, shop.account_id)


async def test_ops_cancel_now_repeated_after_a_503_answers_its_refund_once(
    time_skipping_env, sqlite_sessions, sqlite_url, localstripe, admin_env, capsys
):
    """Stripe is unreachable when an operator ends the add-on now with a prorated
    refund: the command answers 503 and says to repeat it; the same command, once
    Stripe is back, answers the end with its one refund, audited once."""
    env, link = time_skipping_env, ProviderLink()
    async with stripe_shop(env, sqlite_sessions, sqlite_url, localstripe, link) as shop:
        bought = await shop.bought(ADDON)
        payment_id = bought["payment"]["payment_id"]
        await env.sleep(timedelta(days=10))
        transport = transport_for(shop, sqlite_url, sms_api_wait_seconds=2.0)
        end_now = ("cancel", shop.account_id, "--when", "now", "--refund", "prorated")

        link.down.set()
        code, waiting = await ops(transport, capsys, *end_now)
        assert code == 1 and waiting["error"]["code"] == "service_unavailable", waiting
        await env.sleep(GATEWAY_PATIENCE * 2)
        link.down.clear()
        await env.sleep(OUTAGE_LONGEST_PAUSE + GATEWAY_PATIENCE)
        code, ended = await ops(transport, capsys, *end_now)
        assert code == 0, ended
        code, listed = await ops(transport, capsys, "audit", shop.account_id)
    (refund,) = refunds_of(shop, payment_id)
    assert ended["status"] == "cancelled"
    assert [r["payment_id"] for r in ended["refunds"]] == [refund.payment_id]
    (intent,) = intents_of(localstripe, shop.account_id)
    assert [r.id for r in stripe_refunds_of(localstripe, intent.id)] == [refund.provider_ref]
    assert [(a["action"], a["reference"]) for a in listed["audit"]] == [
        ("end_now", refund.payment_id)
    ]
    check_money(shop.sessions, shop.account_id)


@pytest.fixture
def no_admin_token(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:
    """A shell without SMS_ADMIN_TOKEN, in a directory where `make run` kept its own."""
    monkeypatch.delenv("SMS_ADMIN_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / DEV_ADMIN_TOKEN_FILE).parent.mkdir()
    (tmp_path / DEV_ADMIN_TOKEN_FILE).write_text(ADMIN_TOKEN + "\n")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_ops_finds_the_dev_stacks_token_for_an_api_on_this_machine(
    time_skipping_env, sqlite_sessions, sqlite_url, no_admin_token, capsys
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        transport = transport_for(shop, sqlite_url)
        for local in ("http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"):
            code = await run_ops(["--api", local, "audit", shop.account_id], transport)
            assert code == 0, capsys.readouterr().err
            assert json.loads(capsys.readouterr().out) == {"audit": []}
        # Anywhere else the file stays unread: the embedded stack's token is not sent.
        code = await run_ops(["--api", "http://billing.internal", "audit", "acme"], transport)
        assert code == 2
        assert "set SMS_ADMIN_TOKEN" in capsys.readouterr().err


def test_help_names_every_command_in_plain_words():
    shown = build_parser().format_help()
    for command in ("migrate", "worker", "api", "dev", "ops"):
        assert f"\n    {command} " in shown, shown
    ops = build_ops_parser().format_help()
    for action in ("refund", "goodwill", "retry-payment", "cancel", "redeliver", "audit"):
        assert f"\n    {action} " in ops, ops
    assert "``" not in shown + ops

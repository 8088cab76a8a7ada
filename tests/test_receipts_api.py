"""A Brazilian account end to end through the API: priced and charged in reais, its
billing details with a CNPJ, a receipt per payment (consecutive numbers, PDFs in
pt-BR that state the CNPJ and R$), a refund receipt, a renewal in reais, and the
money invariants; its currency fixed once it has bought."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.enums import Currency
from tests.invariants import check_money
from tests.operator_support import ops_post
from tests.purchase_support import Shop, open_shop
from tests.receipt_support import (
    ADMIN,
    BRAZILIAN_COMPANY,
    CNPJ,
    has_ink,
    pdf_text,
    rasterised_pages,
)
from tests.support import catalogue

ADDON = {"type": "addon", "tier": "sms-1000"}
PACK = {"type": "credit_pack", "pack": "pack-250"}
TIER_BRL = catalogue().addon_tier("sms-1000", Currency.BRL)
PACK_BRL = catalogue().credit_pack("pack-250", Currency.BRL)


async def make_brazilian(shop: Shop) -> None:
    changed = await shop.api.put(
        f"/v1/admin/accounts/{shop.account_id}",
        json={"currency": "BRL", "locale": "pt-BR"},
        headers=ADMIN,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["currency"], changed.json()["locale"]) == ("BRL", "pt-BR")


async def receipts(shop: Shop, who: dict[str, str] | None = None) -> list[dict[str, Any]]:
    answer = await shop.api.get(
        f"/v1/accounts/{shop.account_id}/sms/receipts", headers=who or shop.admin
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["receipts"])


async def test_a_brazilian_account_pays_in_reais_with_receipts(
    time_skipping_env, sessions, database_url, tmp_path
):
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        await make_brazilian(shop)
        saved = await shop.api.put(
            f"/v1/accounts/{shop.account_id}/billing-details",
            json=BRAZILIAN_COMPANY,
            headers=shop.biller,
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["tax_id"] == CNPJ

        offers = await shop.get("/offers")
        assert offers["currency"] == "BRL"
        assert {o["id"]: o["price_minor"] for o in offers["addon_tiers"]}["sms-1000"] == 9890

        addon = await shop.bought(ADDON)
        pack = await shop.bought(PACK)
        for bought, price in ((addon, TIER_BRL), (pack, PACK_BRL)):
            assert price is not None
            assert bought["quote"]["currency"] == bought["payment"]["currency"] == "BRL"
            assert bought["quote"]["due_now_minor"] == price.monthly_price_minor
        page = await shop.get("")
        assert page["addon"]["currency"] == "BRL"
        assert TIER_BRL is not None and PACK_BRL is not None
        recurring = TIER_BRL.monthly_price_minor + PACK_BRL.monthly_price_minor
        assert page["addon"]["next_charge_minor"] == recurring
        payments = (await shop.get("/payments"))["payments"]
        assert {p["currency"] for p in payments} == {"BRL"}

        # Two receipts, consecutive numbers, newest first; readable by any user.
        listed = await receipts(shop, shop.plain)
        assert [r["payment_id"] for r in listed] == [
            pack["payment"]["payment_id"],
            addon["payment"]["payment_id"],
        ]
        newer, older = (int(r["number"].rsplit("-", 1)[1]) for r in listed)
        assert newer == older + 1
        first = listed[1]
        assert first["kind"] == "payment" and first["refunds"] is None
        assert first["currency"] == "BRL" and first["amount_minor"] == 9890
        assert first["lines"] == addon["quote"]["lines"]
        assert first["billed_to"]["tax_id"] == CNPJ
        one = await shop.api.get(
            f"/v1/accounts/{shop.account_id}/sms/receipts/{first['receipt_id']}",
            headers=shop.admin,
        )
        assert one.status_code == 200 and one.json() == first

        for receipt in listed:
            pdf = await shop.api.get(
                f"/v1/accounts/{shop.account_id}/sms/receipts/{receipt['receipt_id']}/pdf",
                headers=shop.plain,
            )
            assert pdf.status_code == 200, pdf.text
            assert pdf.headers["content-type"] == "application/pdf"
            text = pdf_text(pdf.content)
            assert CNPJ in text and "R$" in text and receipt["number"] in text
            assert "FATURADO PARA" in text and "Total pago" in text
            folder = tmp_path / receipt["receipt_id"]
            folder.mkdir()
            pages = rasterised_pages(pdf.content, folder)
            assert len(pages) == 1 and has_ink(pages[0])

        # An operator refund of the pack: a refund receipt in reais naming its receipt.
        refund = await ops_post(
            shop,
            "/refunds",
            {"payment_id": pack["payment"]["payment_id"], "amount_minor": 1000, "reason": "r"},
            key="refund-1",
        )
        assert refund.status_code == 201, refund.text
        latest = (await receipts(shop))[0]
        assert (latest["kind"], latest["currency"], latest["amount_minor"]) == (
            "refund",
            "BRL",
            1000,
        )
        assert latest["refunds"] == listed[0]["receipt_id"]

        # The renewal charges the add-on and the pack in reais, with its receipt.
        period_end = page["addon"]["period_end"]
        await time_skipping_env.sleep(timedelta(days=32))
        renewals = [
            p for p in (await shop.get("/payments"))["payments"] if "renewal" in p["reference"]
        ]
        assert [(p["currency"], p["amount_minor"]) for p in renewals] == [("BRL", recurring)]
        renewal_receipt = (await receipts(shop))[0]
        assert renewal_receipt["payment_id"] == renewals[0]["payment_id"]
        assert renewal_receipt["issued_at"].startswith(period_end[:10])

        assert check_money(sessions, shop.account_id)["completed"] == 2


async def test_the_currency_is_fixed_once_the_account_has_bought(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        path = f"/v1/admin/accounts/{shop.account_id}"
        # Quoted in dollars, then the account moves to reais: the quote cannot be paid.
        quoted = await shop.buy(ADDON)
        assert quoted.json()["quote"]["currency"] == "USD"
        await make_brazilian(shop)
        stale = await shop.confirm(quoted.json()["purchase_id"])
        assert stale.status_code == 409 and stale.json()["error"]["code"] == "quote_expired"
        assert shop.counts() == (0, 0)

        await shop.bought(ADDON)
        back = await shop.api.put(path, json={"currency": "USD"}, headers=ADMIN)
        assert back.status_code == 409, back.text
        assert back.json()["error"]["code"] == "conflict"
        same = await shop.api.put(path, json={"currency": "BRL", "locale": "en"}, headers=ADMIN)
        assert same.status_code == 200 and same.json()["locale"] == "en"
        # A pack is priced in the account's one currency, like everything after.
        pack = await shop.bought(PACK)
        assert pack["payment"]["currency"] == "BRL"
        check_money(sqlite_sessions, shop.account_id)


async def test_billing_details_need_the_billing_permission_and_a_valid_tax_id(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url, worker=False) as shop:
        path = f"/v1/accounts/{shop.account_id}/billing-details"
        missing = await shop.api.get(path, headers=shop.admin)
        assert missing.status_code == 404
        for method in ("get", "put"):
            refused = await shop.api.request(
                method, path, json=BRAZILIAN_COMPANY, headers=shop.plain
            )
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "billing_permission_required"
        elsewhere = await shop.api.get(
            "/v1/accounts/someone-else/billing-details", headers=shop.admin
        )
        assert elsewhere.status_code == 404

        for tax_id in ("12.345.678/0001-96", "123.456.789-00", "1234", None):
            bad = await shop.api.put(
                path, json={**BRAZILIAN_COMPANY, "tax_id": tax_id}, headers=shop.admin
            )
            assert bad.status_code == 422, (tax_id, bad.text)
            error = bad.json()["error"]
            assert error["code"] == "invalid_request"
            assert [d["field"] for d in error["details"]] == ["tax_id"]

        person = {**BRAZILIAN_COMPANY, "tax_id": "12345678909"}
        assert (await shop.api.put(path, json=person, headers=shop.admin)).status_code == 200
        assert (await shop.api.get(path, headers=shop.biller)).json()["tax_id"] == "123.456.789-09"

        german = {
            **BRAZILIAN_COMPANY,
            "tax_id": "DE 136 695 976",
            "address": {**BRAZILIAN_COMPANY["address"], "country": "DE", "state": None},
        }
        saved = await shop.api.put(path, json=german, headers=shop.admin)
        assert saved.status_code == 200, saved.text
        assert saved.json()["tax_id"] == "136695976"
        wrong_vat = await shop.api.put(
            path, json={**german, "tax_id": "DE136695977"}, headers=shop.admin
        )
        assert wrong_vat.status_code == 422
        unknown_rules = {
            **german,
            "tax_id": "EIN 12-3456789",
            "address": {**german["address"], "country": "US"},
        }
        kept = await shop.api.put(path, json=unknown_rules, headers=shop.admin)
        assert kept.status_code == 200 and kept.json()["tax_id"] == "EIN 12-3456789"
        strict = await shop.api.put(
            path, json={**BRAZILIAN_COMPANY, "extra": 1, "legal_name": 7}, headers=shop.admin
        )
        assert strict.status_code == 422
        assert {d["field"] for d in strict.json()["error"]["details"]} == {"extra", "legal_name"}


async def test_receipts_are_the_account_s_own(time_skipping_env, sqlite_sessions, sqlite_url):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        bought = await shop.bought(ADDON)
        (receipt,) = await receipts(shop)
        assert receipt["payment_id"] == bought["payment"]["payment_id"]
        assert receipt["billed_to"] == {
            "legal_name": shop.account_id.title(),
            "tax_id": None,
            "email": None,
            "address": None,
        }
        async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url, worker=False) as other:
            for suffix in ("", "/pdf"):
                stranger = await other.api.get(
                    f"/v1/accounts/{other.account_id}/sms/receipts/{receipt['receipt_id']}{suffix}",
                    headers=other.admin,
                )
                assert stranger.status_code == 404
        pdf = await shop.api.get(
            f"/v1/accounts/{shop.account_id}/sms/receipts/{receipt['receipt_id']}/pdf",
            headers=shop.admin,
        )
        text = pdf_text(pdf.content)
        assert "$18.00" in text and "BILLED TO" in text

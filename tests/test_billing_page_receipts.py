"""The billing page's receipts and billing details in a real browser (Debian's chromium):
a Brazilian account in Portuguese fills its billing details with a CNPJ, buys the
add-on in reais by the seed's clicks, and downloads its receipt's PDF."""

from __future__ import annotations

from playwright.async_api import expect

from domain.enums import Currency
from tests.billing_page_support import DESKTOP, PT_BR, api_json, money, serve_page, visit
from tests.purchase_support import open_shop
from tests.receipt_support import ADMIN, BRAZILIAN_COMPANY, CNPJ, pdf_text
from tests.support import catalogue
from tests.test_billing_page import confirm, token

ADDRESS = BRAZILIAN_COMPANY["address"]
FORM = {
    "Razão social ou nome completo": BRAZILIAN_COMPANY["legal_name"],
    "E-mail de cobrança": BRAZILIAN_COMPANY["email"],
    "Endereço": ADDRESS["line1"],
    "Complemento": ADDRESS["line2"],
    "Cidade": ADDRESS["city"],
    "Estado": ADDRESS["state"],
    "CEP": ADDRESS["postal_code"],
}
TAX_ID = "CPF, CNPJ ou identificação fiscal"


async def test_a_brazilian_account_on_the_page(
    browser, time_skipping_env, sqlite_sessions, sqlite_url
):
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, PT_BR, DESKTOP, "pt-BR-receipts") as tab,
    ):
        changed = await shop.api.put(
            f"/v1/admin/accounts/{shop.account_id}",
            json={"currency": "BRL", "locale": "pt-BR"},
            headers=ADMIN,
        )
        assert changed.status_code == 200, changed.text
        await tab.sign_in(token(shop.admin), shot=False)
        await expect(tab.page.locator("#receipts")).to_have_count(0)  # none yet

        # The billing details form: a wrong check digit is refused in words.
        form = tab.page.get_by_role("region", name="Dados de faturamento")
        for label, value in FORM.items():
            await form.get_by_label(label, exact=True).fill(value)
        await form.get_by_label("País").select_option("BR")
        await form.get_by_label(TAX_ID).fill("12.345.678/0001-96")
        await form.get_by_role("button", name="Salvar dados de faturamento").click()
        await tab.page.wait_for_load_state()
        assert "CNPJ (14 dígitos)" in await tab.alert()
        form = tab.page.get_by_role("region", name="Dados de faturamento")
        for label, value in FORM.items():
            await form.get_by_label(label, exact=True).fill(value)
        await form.get_by_label(TAX_ID).fill("12345678000195")
        await form.get_by_role("button", name="Salvar dados de faturamento").click()
        await tab.page.wait_for_load_state()
        await expect(tab.page.get_by_role("status")).to_contain_text("Dados de faturamento salvos")
        await expect(tab.page.get_by_label(TAX_ID)).to_have_value(CNPJ)
        details = await shop.api.get(
            f"/v1/accounts/{shop.account_id}/billing-details", headers=shop.admin
        )
        assert details.json()["tax_id"] == CNPJ

        # Add to plan in reais: the review shows the BRL price book's figure.
        await tab.add_to_plan("sms-1000")
        dialog = tab.page.get_by_role("dialog", name=PT_BR.review)
        tier = catalogue().addon_tier("sms-1000", Currency.BRL)
        assert tier is not None
        due = money(tier.monthly_price_minor, "BRL", PT_BR)
        await expect(dialog.locator("#due-now-total")).to_have_text(due)
        assert due.startswith("R$")
        await confirm(tab)
        await tab.shot("receipts", full_page=True)

        # The receipt is listed with its download, which is the API's PDF.
        (receipt,) = (await api_json(shop, "/receipts", shop.admin))["receipts"]
        row = tab.page.locator("#receipts tbody tr")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text(receipt["number"])
        await expect(row.locator("td.amount")).to_have_text(due)
        async with tab.page.expect_download() as download_info:
            await row.get_by_role("link", name="Baixar PDF").click()
        download = await download_info.value
        assert download.suggested_filename == f"{receipt['number']}.pdf"
        path = await download.path()
        text = pdf_text(path.read_bytes())
        assert CNPJ in text and "R$" in text and "Recibo".upper() in text

        # Another account's receipt is not found from this session.
        async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as other:
            bought = await other.bought({"type": "addon", "tier": "sms-500"})
            (theirs,) = (await api_json(other, "/receipts", other.admin))["receipts"]
            assert theirs["payment_id"] == bought["payment"]["payment_id"]
        stranger = await tab.page.goto(f"{base}/billing/receipts/{theirs['receipt_id']}/pdf")
        assert stranger is not None and stranger.status == 404
        await expect(tab.page.get_by_role("alert")).to_have_text("Esse recibo não foi encontrado.")


async def test_without_the_billing_permission_no_details_form(
    browser, time_skipping_env, sqlite_sessions, sqlite_url
):
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url, worker=False) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, PT_BR, DESKTOP, "pt-BR-receipts-plain") as tab,
    ):
        await tab.sign_in(token(shop.plain), shot=False)
        await expect(tab.page.get_by_role("region", name="Recibos")).to_be_visible()
        await expect(tab.page.get_by_role("region", name="Dados de faturamento")).to_have_count(0)

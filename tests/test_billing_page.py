"""The seed's clicks on the billing page in a real browser (Debian's chromium), in
English and Brazilian Portuguese, checked against the JSON API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import expect

from domain.enums import Plan
from tests.billing_page_support import (
    LANGUAGES,
    Labels,
    Visit,
    api_json,
    credits_label,
    money,
    serve_page,
    visit,
)
from tests.purchase_support import Shop, open_shop


def token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture(params=sorted(LANGUAGES))
def labels(request: pytest.FixtureRequest) -> Labels:
    return LANGUAGES[request.param]


async def review_matches_api(tab: Visit, shop: Shop) -> dict[str, object]:
    """The Review purchase dialog shows the quote the JSON API has for the purchase."""
    dialog = tab.page.get_by_role("dialog", name=tab.labels.review)
    await expect(dialog).to_be_visible()
    purchase = await api_json(shop, f"/purchases/{tab.purchase_id()}", shop.admin)
    assert purchase["status"] == "awaiting_confirmation"
    quote = purchase["quote"]
    currency = quote["currency"]
    await expect(dialog.locator("#due-now-total")).to_have_text(
        money(quote["due_now_minor"], currency, tab.labels)
    )
    per_month = tab.labels.per_month.format(
        price=money(quote["recurring_minor"], currency, tab.labels)
    )
    await expect(dialog.locator("#recurring-total")).to_have_text(per_month)
    # Due now is listed before the recurring change.
    order = await dialog.locator("#due-now, #recurring").evaluate_all("els => els.map(e => e.id)")
    assert order == ["due-now", "recurring"]
    return dict(quote)


async def confirm(tab: Visit) -> None:
    dialog = tab.page.get_by_role("dialog", name=tab.labels.review)
    await dialog.get_by_role("button", name=tab.labels.confirm).click()
    await tab.page.wait_for_load_state()


async def balance_shown_is_the_apis(tab: Visit, shop: Shop, expected: int) -> None:
    page_data = await api_json(shop, "", shop.admin)
    assert page_data["credits"]["balance"] == expected
    assert await tab.credits_text() == credits_label(expected, tab.labels)


async def test_the_seed_flows(browser, labels, time_skipping_env, sqlite_sessions, sqlite_url):
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, labels.locale.replace("_", "-")) as tab,
    ):
        await tab.sign_in(token(shop.admin))
        await balance_shown_is_the_apis(tab, shop, 0)
        await tab.shot("billing-page")

        # Add-ons → SMS → Add to plan → Review purchase → Confirm purchase.
        await tab.add_to_plan("sms-1000")
        quote = await review_matches_api(tab, shop)
        assert quote["due_now_minor"] == 1800  # bought on the anchor day: a whole month
        await tab.shot("review-addon", dialog=labels.review)
        await confirm(tab)
        await balance_shown_is_the_apis(tab, shop, 1000)
        await tab.shot("addon-added")

        # Edit → a select of extra credits and the total cost → Continue → Confirm purchase.
        await tab.page.get_by_role("button", name=labels.edit, exact=True).click()
        edit = tab.page.get_by_role("dialog", name=labels.extra_credits)
        await expect(edit).to_be_visible()
        await tab.page.keyboard.press("Escape")  # a real modal: Escape closes it
        await expect(edit).to_be_hidden()
        await tab.page.get_by_role("button", name=labels.edit, exact=True).click()
        await edit.get_by_role("combobox").select_option("pack-500")
        offers = await api_json(shop, "/offers", shop.admin)
        pack = next(p for p in offers["credit_packs"] if p["id"] == "pack-500")
        total = labels.per_month.format(price=money(pack["price_minor"], "USD", labels))
        await expect(edit.locator("output")).to_have_text(total)
        await tab.shot("extra-credits", dialog=labels.extra_credits)
        await edit.get_by_role("button", name=labels.continue_).click()
        await tab.page.wait_for_load_state()
        quote = await review_matches_api(tab, shop)
        assert quote["monthly_credits_after"] == 1500
        await tab.shot("review-extra-credits", dialog=labels.review)
        await confirm(tab)
        await balance_shown_is_the_apis(tab, shop, 1500)
        await tab.shot("credits-updated", full_page=True)

        # The ledger and the payments on the page are the API's.
        ledger = (await api_json(shop, "/ledger", shop.admin))["entries"]
        await expect(tab.page.locator("#ledger tbody tr")).to_have_count(len(ledger))
        payments = (await api_json(shop, "/payments", shop.admin))["payments"]
        amounts = [money(p["amount_minor"], p["currency"], labels) for p in payments]
        cells = tab.page.locator("#payments tbody tr td.amount")
        await expect(cells).to_have_text(amounts)
        addon = (await api_json(shop, "", shop.admin))["addon"]
        next_charge = money(addon["next_charge_minor"], "USD", labels)
        await expect(tab.page.locator("#next-charge")).to_contain_text(next_charge)

        # Cancel the add-on: it stays active until the end of the period.
        await tab.page.get_by_role("button", name=labels.cancel_addon).click()
        dialog = tab.page.get_by_role("dialog")
        await dialog.get_by_role("button", name=labels.cancel_addon).click()
        await tab.page.wait_for_load_state()
        await expect(tab.page.get_by_role("status")).to_be_visible()
        assert (await api_json(shop, "", shop.admin))["addon"]["status"] == "cancelling"
        await tab.shot("addon-cancelled")

        # Sign out: the page asks for a token again. No token ever went into a URL.
        await tab.page.get_by_role("button", name=labels.sign_out).click()
        await expect(tab.page.get_by_label(labels.api_token)).to_be_visible()
        await tab.page.goto(f"{base}/billing")
        assert tab.page.url == f"{base}/billing/sign-in"
        assert not [url for url in tab.urls if token(shop.admin) in url]
        assert all(url.startswith(base) for url in tab.urls)


async def test_refusals_in_words(browser, labels, time_skipping_env, sqlite_sessions, sqlite_url):
    """A user without the billing permission, and a Starter account (with what to do)."""
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, f"{labels.locale.replace('_', '-')}-refusal") as tab,
    ):
        await tab.sign_in(token(shop.plain), shot=False)
        # A read-only page: what she may not do is disabled, and the page says why.
        card = tab.page.get_by_role("region", name=labels.addons).get_by_role("article", name="SMS")
        await expect(card.get_by_role("button", name=labels.add_to_plan)).to_be_disabled()
        await expect(tab.page.get_by_role("button", name=labels.edit)).to_be_disabled()
        why = "billing permission" if labels.locale == "en" else "permissão de faturamento"
        await expect(tab.page.locator("#read-only")).to_contain_text(why)
        await tab.shot("no-billing-permission")
        # The form sent anyway (a stale tab, a forged click): refused in words, nothing made.
        await card.get_by_role("button", name=labels.add_to_plan).evaluate(
            "button => { button.disabled = false; button.click(); }"
        )
        await tab.page.wait_for_load_state()
        assert why in await tab.alert()
        assert (await api_json(shop, "/purchases", shop.admin))["purchases"] == []
        await tab.page.goto(f"{base}/billing")
        await balance_shown_is_the_apis(tab, shop, 0)

    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url, plan=Plan.STARTER) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, f"{labels.locale.replace('_', '-')}-starter") as tab,
    ):
        await tab.sign_in(token(shop.admin), shot=False)
        advice = tab.page.locator("#plan-advice")
        await expect(advice).to_contain_text("Plus")  # what to do, before any click
        await tab.add_to_plan("sms-1000")
        said = await tab.alert()
        assert "Starter" in said and "Professional" in said
        await tab.shot("starter-plan")
        refused = await api_json(shop, f"/purchases/{tab.purchase_id()}", shop.admin)
        assert (refused["status"], refused["failure"]["code"]) == ("rejected", "plan_not_eligible")


async def test_a_declined_card_is_explained(
    browser, time_skipping_env, sqlite_sessions, sqlite_url
):
    labels = LANGUAGES["pt-BR"]
    async with (
        open_shop(
            time_skipping_env, sqlite_sessions, sqlite_url, payment_method="pm_card_chargeDeclined"
        ) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, "pt-BR-declined") as tab,
    ):
        await tab.sign_in(token(shop.admin), shot=False)
        await tab.add_to_plan("sms-1000")
        await review_matches_api(tab, shop)
        await confirm(tab)
        assert "recusado" in await tab.alert()
        await tab.shot("card-declined")
        payments = (await api_json(shop, "/payments", shop.admin))["payments"]
        assert [(p["kind"], p["status"]) for p in payments] == [("capture", "declined")]
        await expect(tab.page.locator("#payments tbody tr")).to_contain_text(["Recusado"])
        await balance_shown_is_the_apis(tab, shop, 0)


async def test_an_expired_quote_is_explained(
    browser, time_skipping_env, sqlite_sessions, sqlite_url
):
    labels = LANGUAGES["en"]
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, "en-expired") as tab,
    ):
        await tab.sign_in(token(shop.admin), shot=False)
        await tab.add_to_plan("sms-1000")
        await review_matches_api(tab, shop)
        purchase_id = tab.purchase_id()
        await shop.env.sleep(timedelta(minutes=31))
        await confirm(tab)
        assert "expired" in await tab.alert()
        await tab.shot("quote-expired")
        purchase = await api_json(shop, f"/purchases/{purchase_id}", shop.admin)
        assert purchase["status"] == "expired"
        assert shop.counts() == (0, 0)
        await balance_shown_is_the_apis(tab, shop, 0)

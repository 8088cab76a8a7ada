"""The seed's clicks on the billing page in a real browser (Debian's chromium), in
English and Brazilian Portuguese, on a phone and a desktop, checked against the JSON
API; by keyboard alone; and what a user who may not act, or an account that cannot
act now, is offered instead."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from babel.numbers import format_decimal
from playwright.async_api import expect

from domain.enums import Plan
from domain.usage import send_reference
from starter.web.i18n import translations
from store.debits import Message, Outcome, spend
from tests.billing_page_support import (
    DESKTOP,
    LANGUAGES,
    PHONE,
    SIZES,
    Labels,
    Size,
    Visit,
    api_json,
    credits_label,
    money,
    name_account,
    serve_page,
    visit,
)
from tests.operator_support import ops_post
from tests.purchase_support import Shop, open_shop
from tests.test_tier_change import moment

ACCOUNT_NAMES = {"en": "Acme Flowers", "pt_BR": "Padaria Paula"}
NARROWEST_AND_TABLET = (360, 768)  # CSS pixels wide
CREDITS = {"BR": 4, "MX": 3, "CA": 1}  # per message (domain/catalogue.toml)
# (day of the credit month, country, recipients) of the sends after the first day's.
SENDS = [(1, "BR", 25), (2, "MX", 30), (4, "BR", 40), (5, "CA", 60), (7, "BR", 20),
         (8, "MX", 20), (10, "BR", 35), (11, "CA", 40)]  # fmt: skip


def send_to(shop: Shop, country: str, recipients: int, at: datetime) -> None:
    """A send at ``at`` through the API's own debit, referenced as the API does."""
    key = f"usage:{shop.account_id}:{uuid.uuid4().hex}"
    reference = send_reference(country, 1, recipients)
    message = Message(key, CREDITS[country] * recipients, False, reference)
    spent, _ = spend(shop.sessions.kw["bind"], message, at)
    assert spent.outcome is Outcome.DEBITED, spent


def token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def said(labels: Labels, message: str) -> str:
    """The page's own words for ``message`` in the visit's language."""
    return str(translations(labels.locale).gettext(message))


@pytest.fixture(params=sorted(LANGUAGES))
def labels(request: pytest.FixtureRequest) -> Labels:
    return LANGUAGES[request.param]


@pytest.fixture(params=sorted(SIZES))
def size(request: pytest.FixtureRequest) -> Size:
    return SIZES[request.param]


def tab_name(labels: Labels, size: Size, what: str = "") -> str:
    return "-".join(filter(None, [labels.locale.replace("_", "-"), size.name, what]))


async def review_matches_api(tab: Visit, shop: Shop) -> dict[str, object]:
    """The Review purchase dialog shows the quote the JSON API has for the purchase."""
    dialog = tab.dialog(tab.labels.review)
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
    await tab.press_and_load(tab.button(tab.labels.confirm, tab.dialog(tab.labels.review)))


async def balance_shown_is_the_apis(tab: Visit, shop: Shop, expected: int) -> None:
    page_data = await api_json(shop, "", shop.admin)
    assert page_data["credits"]["balance"] == expected
    assert await tab.credits_text() == credits_label(expected, tab.labels)


async def figures_are_the_apis(tab: Visit, shop: Shop) -> dict[str, object]:
    """Next charge, monthly credits (now, and after the renewal when they differ)."""
    addon = (await api_json(shop, "", shop.admin))["addon"]
    labels, page = tab.labels, tab.page
    next_charge = money(addon["next_charge_minor"], addon["currency"], labels)
    await expect(page.locator("#next-charge")).to_contain_text(next_charge)
    monthly = page.locator("#monthly-credits")
    await expect(monthly).to_contain_text(credits_number(addon["monthly_credits"], labels))
    after = addon["monthly_credits_after_renewal"]
    if after != addon["monthly_credits"]:
        await expect(monthly.locator(".then")).to_contain_text(credits_number(after, labels))
    return dict(addon)


def credits_number(n: int, labels: Labels) -> str:
    return credits_label(n, labels).split(" ")[0]


async def test_the_seed_flows(
    browser, labels, size, time_skipping_env, sqlite_sessions, sqlite_url
):
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, size, tab_name(labels, size)) as tab,
    ):
        name_account(shop, ACCOUNT_NAMES[labels.locale])
        await tab.sign_in(token(shop.admin), shot=size is PHONE)
        await balance_shown_is_the_apis(tab, shop, 0)
        # No add-on yet: Edit is not offered, and the page says why.
        edit = tab.button(labels.edit)
        await expect(edit).to_be_disabled()
        await expect(tab.page.locator("#edit-reason")).to_be_visible()
        await tab.looks_right()
        await tab.shot("billing-page")

        # Add-ons → SMS → Add to plan → Review purchase → Confirm purchase.
        await tab.add_to_plan("sms-1000")
        quote = await review_matches_api(tab, shop)
        assert quote["due_now_minor"] == 1800  # bought on the anchor day: a whole month
        await tab.looks_right()
        await tab.shot("review-addon")
        await confirm(tab)
        await balance_shown_is_the_apis(tab, shop, 1000)

        # Edit → a select of extra credits and the total cost → Continue → Confirm.
        await tab.press(edit)
        dialog = tab.dialog(labels.extra_credits)
        await expect(dialog).to_be_visible()
        await tab.page.keyboard.press("Escape")  # a real modal: Escape closes it …
        await expect(dialog).to_be_hidden()
        await expect(edit).to_be_focused()  # … and focus is back where it was
        await tab.press(edit)
        await dialog.get_by_role("combobox").select_option("pack-500")
        offers = await api_json(shop, "/offers", shop.admin)
        pack = next(p for p in offers["credit_packs"] if p["id"] == "pack-500")
        total = labels.per_month.format(price=money(pack["price_minor"], "USD", labels))
        await expect(dialog.locator("output")).to_have_text(total)
        await tab.looks_right()
        await tab.shot("extra-credits")
        await tab.press_and_load(tab.button(labels.continue_, dialog))
        quote = await review_matches_api(tab, shop)
        assert quote["monthly_credits_after"] == 1500
        await confirm(tab)
        await balance_shown_is_the_apis(tab, shop, 1500)
        await figures_are_the_apis(tab, shop)

        # The ledger and the payments are the API's, and say what was bought.
        ledger = (await api_json(shop, "/ledger", shop.admin))["entries"]
        await expect(tab.page.locator("#ledger tbody tr")).to_have_count(len(ledger))
        bought = said(labels, "Bought: %(item)s") % {
            "item": said(labels, "Extra credits, %(credits)s credits/month") % {"credits": "500"}
        }
        await expect(tab.page.locator("#ledger tbody tr td.what").first).to_have_text(bought)
        payments = (await api_json(shop, "/payments", shop.admin))["payments"]
        amounts = [money(p["amount_minor"], p["currency"], labels) for p in payments]
        await expect(tab.page.locator("#payments tbody tr td.amount")).to_have_text(amounts)
        paid = said(labels, "Paid")
        await expect(tab.page.locator("#payments td.status")).to_have_text([paid, paid])

        # End at renewal: the pack counts until the renewal, the next charge drops now.
        lines = tab.page.locator("#addon-lines")
        await tab.press(lines.get_by_role("button", name=labels.end_at_renewal))
        ending = tab.page.get_by_role("dialog").filter(has=tab.page.locator("form[action*=end]"))
        await expect(ending).to_be_visible()
        await tab.looks_right()
        await tab.press_and_load(tab.button(labels.end_at_renewal, ending))
        await expect(tab.page.get_by_role("status")).to_be_visible()
        addon = await figures_are_the_apis(tab, shop)
        assert (addon["next_charge_minor"], addon["monthly_credits_after_renewal"]) == (1800, 1000)
        await expect(tab.page.locator("#pending-changes li")).to_have_count(1)
        await tab.looks_right()
        await tab.shot("pack-ending", full_page=True)

        # Cancel the add-on, then take it back with Resume.
        await tab.press(tab.button(labels.cancel_addon))
        cancel = tab.page.get_by_role("dialog")
        await tab.press_and_load(tab.button(labels.cancel_addon, cancel))
        await expect(tab.page.get_by_role("status")).to_be_visible()
        assert (await api_json(shop, "", shop.admin))["addon"]["status"] == "cancelling"
        await expect(tab.page.locator("#next-charge")).to_have_count(0)
        await tab.looks_right()
        await tab.shot("addon-cancelled")
        await tab.press_and_load(tab.button(labels.resume))
        assert (await api_json(shop, "", shop.admin))["addon"]["status"] == "active"
        await figures_are_the_apis(tab, shop)
        assert shop.counts() == (2, 2)  # nothing charged by the end, the cancel or the resume

        # Sign out: the page asks for a token again. No token ever went into a URL.
        await tab.press_and_load(tab.button(labels.sign_out))
        await expect(tab.page.get_by_label(labels.api_token)).to_be_visible()
        await tab.page.goto(f"{base}/billing")
        assert tab.page.url == f"{base}/billing/sign-in"
        assert not [url for url in tab.urls if token(shop.admin) in url]
        assert all(url.startswith(base) for url in tab.urls)


async def test_both_seed_flows_by_keyboard_alone(
    browser, time_skipping_env, sqlite_sessions, sqlite_url
):
    """Tab, Enter and Escape only; a dialog keeps the focus inside until it closes."""
    labels = LANGUAGES["en"]
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, DESKTOP, "en-keyboard") as tab,
    ):
        keys = tab.page.keyboard
        await tab.sign_in(token(shop.admin), shot=False)
        tiers = tab.sms_card().get_by_role("combobox")
        await tab.tab_to(tiers)
        await keys.press("ArrowDown")  # from the first tier to the next: 1,000 credits
        await expect(tiers).to_have_value("sms-1000")
        await tab.tab_to(tab.button(labels.add_to_plan))
        async with tab.page.expect_navigation():
            await keys.press("Enter")
        review = tab.dialog(labels.review)
        await expect(tab.button(labels.confirm, review)).to_be_focused()
        for _ in range(4):  # round the dialog's two buttons, never out of it
            await keys.press("Tab")
            assert await review.evaluate("d => d.contains(document.activeElement)")
        await tab.tab_to(tab.button(labels.confirm, review))
        async with tab.page.expect_navigation():
            await keys.press("Enter")
        await balance_shown_is_the_apis(tab, shop, 1000)

        edit = tab.button(labels.edit)
        await tab.tab_to(edit)
        await keys.press("Enter")
        extra = tab.dialog(labels.extra_credits)
        await expect(extra).to_be_visible()
        packs = extra.get_by_role("combobox")
        await expect(packs).to_be_focused()  # the dialog's first control
        await keys.press("ArrowDown")
        await expect(packs).to_have_value("pack-500")
        await tab.tab_to(tab.button(labels.continue_, extra), limit=6)
        async with tab.page.expect_navigation():
            await keys.press("Enter")
        await expect(tab.button(labels.confirm, review)).to_be_focused()
        async with tab.page.expect_navigation():
            await keys.press("Enter")
        await balance_shown_is_the_apis(tab, shop, 1500)


async def test_only_what_the_user_may_do(
    browser, labels, time_skipping_env, sqlite_sessions, sqlite_url
):
    """A user without the billing permission gets a read-only page; a Starter account
    is not offered the add-on; neither records a purchase."""
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, PHONE, tab_name(labels, PHONE, "read-only")) as tab,
    ):
        name_account(shop, ACCOUNT_NAMES[labels.locale])
        await shop.bought({"type": "addon", "tier": "sms-1000"})
        await tab.sign_in(token(shop.plain), shot=False)
        why = tab.page.locator("#read-only")
        await expect(why).to_contain_text(
            "billing permission" if labels.locale == "en" else "permissão de faturamento"
        )
        for name in (labels.edit, labels.change_tier, labels.cancel_addon):
            button = tab.button(name)
            await expect(button).to_be_disabled()
            await expect(button).to_have_attribute("aria-describedby", "read-only")
        await expect(tab.page.locator("#addon-lines button")).to_have_count(0)
        await tab.looks_right()
        await tab.shot("no-billing-permission")
        for width in NARROWEST_AND_TABLET:  # the page holds from the narrowest phone up
            await tab.page.set_viewport_size({"width": width, "height": 800})
            await tab.looks_right()
        assert shop.counts() == (1, 1)

    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url, plan=Plan.STARTER) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, DESKTOP, tab_name(labels, DESKTOP, "starter")) as tab,
    ):
        name_account(shop, ACCOUNT_NAMES[labels.locale])
        await tab.sign_in(token(shop.admin), shot=False)
        advice = tab.page.locator("#plan-advice")
        await expect(advice).to_contain_text("Plus")  # what to do, before any click
        add = tab.button(labels.add_to_plan)
        await expect(add).to_be_disabled()
        await expect(add).to_have_attribute("aria-describedby", "plan-advice")
        await expect(tab.button(labels.edit)).to_be_disabled()
        await tab.looks_right()
        await tab.shot("starter-plan")
        purchases = (await api_json(shop, "/purchases", shop.admin))["purchases"]
        assert purchases == []


async def test_usage_at_a_glance_a_low_balance_and_a_refund(
    browser, labels, time_skipping_env, sqlite_sessions, sqlite_url
):
    """This month's sends per day and by country, the low-balance banner under the
    alert threshold, and a refund that says Refunded (the capture it refunds stays Paid)."""
    size = DESKTOP if labels.locale == "en" else PHONE
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, size, tab_name(labels, size, "usage")) as tab,
    ):
        name_account(shop, ACCOUNT_NAMES[labels.locale])
        addon = await shop.bought({"type": "addon", "tier": "sms-1000"})
        sent = await shop.api.post(
            f"/v1/accounts/{shop.account_id}/sms/usage",
            json={"country": "BR", "recipients": 20, "text": "Promo de hoje!"},
            headers=shop.admin,
        )
        assert sent.status_code == 200, sent.text
        await shop.env.sleep(timedelta(days=12))  # the month goes on, short of its renewal
        month_start = moment((await shop.get())["addon"]["period_start"])
        for day, country, recipients in SENDS:  # the days since, through the API's debit
            send_to(shop, country, recipients, month_start + timedelta(days=day, hours=15))
        threshold = {"low_balance_threshold": 300}
        settings = await shop.api.put(
            f"/v1/accounts/{shop.account_id}/sms/settings", json=threshold, headers=shop.admin
        )
        assert settings.status_code == 200, settings.text
        payment_id = addon["payment"]["payment_id"]
        refund = {"payment_id": payment_id, "amount_minor": 500, "reason": "goodwill",
                  "revoke_credits": False}  # fmt: skip
        refunded = await ops_post(shop, "/refunds", refund, key="refund-1")
        assert refunded.status_code == 201, refunded.text

        await tab.sign_in(token(shop.admin), shot=False)
        balance = (await shop.get())["credits"]["balance"]
        assert balance < 300
        await expect(tab.page.locator("#low-balance")).to_contain_text(
            format_decimal(balance, locale=labels.locale)
        )
        used = sum(r * CREDITS[c] for _, c, r in SENDS) + 20 * CREDITS["BR"]
        await expect(tab.page.locator("#usage-total")).to_contain_text(
            format_decimal(used, locale=labels.locale)
        )
        days_used = len({day for day, _, _ in SENDS} | {0})
        await expect(tab.page.locator("#usage-per-day rect")).to_have_count(days_used)
        brazil = "Brazil" if labels.locale == "en" else "Brasil"
        await expect(tab.page.locator("#usage-by-country text").first).to_have_text(brazil)
        canada = "Canada" if labels.locale == "en" else "Canadá"
        sent_to = said(labels, "Messages sent to %(country)s") % {"country": canada}
        await expect(tab.page.locator("#ledger td.what").first).to_have_text(sent_to)
        statuses = [said(labels, "Refunded"), said(labels, "Paid")]
        await expect(tab.page.locator("#payments td.status")).to_have_text(statuses)
        tier = said(labels, "SMS add-on, %(credits)s credits/month") % {
            "credits": format_decimal(1000, locale=labels.locale)
        }
        refund_of = said(labels, "Refund: %(item)s") % {"item": tier}
        await expect(tab.page.locator("#payments td.what")).to_have_text([refund_of, tier])
        await tab.looks_right()
        await tab.shot("usage-and-refund", full_page=True)


async def test_a_declined_card_is_explained(
    browser, time_skipping_env, sqlite_sessions, sqlite_url
):
    labels = LANGUAGES["pt-BR"]
    async with (
        open_shop(
            time_skipping_env, sqlite_sessions, sqlite_url, payment_method="pm_card_chargeDeclined"
        ) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, PHONE, "pt-BR-phone-declined") as tab,
    ):
        name_account(shop, ACCOUNT_NAMES[labels.locale])
        await tab.sign_in(token(shop.admin), shot=False)
        await tab.add_to_plan("sms-1000")
        await review_matches_api(tab, shop)
        await confirm(tab)
        assert "recusado" in await tab.alert()
        await tab.looks_right()
        await tab.shot("card-declined")
        payments = (await api_json(shop, "/payments", shop.admin))["payments"]
        assert [(p["kind"], p["status"]) for p in payments] == [("capture", "declined")]
        await expect(tab.page.locator("#payments td.status")).to_have_text(["Recusado"])
        await balance_shown_is_the_apis(tab, shop, 0)


async def test_an_expired_quote_is_explained(
    browser, time_skipping_env, sqlite_sessions, sqlite_url
):
    labels = LANGUAGES["en"]
    async with (
        open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop,
        serve_page(shop, sqlite_url) as base,
        visit(browser, base, labels, DESKTOP, "en-desktop-expired") as tab,
    ):
        name_account(shop, ACCOUNT_NAMES[labels.locale])
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

"""The billing page in a real browser: Debian's chromium driven by Playwright, against
the real app served by uvicorn on a free port, with the real worker and Temporal.

Nothing is downloaded: Playwright's own browser download is never used (if
/usr/bin/chromium is missing the tests fail at once with the command to run), and
axe-core comes inside the axe-playwright-python wheel. Each page is looked at on a
phone (390×844, touch) and a desktop (1280×900). With SCREENSHOTS=1 the steps are
saved under docs/billing-page/.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from babel.numbers import format_currency, format_decimal
from playwright.async_api import Browser, Locator, Page, expect

from starter.api.app import build_services
from store.models import Account
from tests.purchase_support import Shop
from tests.support import over_http, settings_for

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_CHROMIUM = "apt-get update && apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "billing-page"
TOUCH_TARGET = 44  # CSS pixels: the least a finger can hit (WCAG 2.5.5)
SERIOUS = {"serious", "critical"}


@dataclass(frozen=True)
class Labels:
    """API.md's labels, verbatim, the page's other words the tests look for, and the
    locale the tests expect numbers in."""

    accept_language: str
    locale: str
    api_token: str
    sign_in: str
    heading: str
    credits: str  # with {n}
    edit: str
    addons: str
    add_to_plan: str
    review: str
    confirm: str
    continue_: str
    extra_credits: str
    cancel_addon: str
    sign_out: str
    per_month: str  # with {price}
    resume: str
    end_at_renewal: str
    change_tier: str
    refunded: str


EN = Labels(
    accept_language="en-US,en;q=0.9", locale="en", api_token="API token", sign_in="Sign in",
    heading="Billing & Upgrade", credits="{n} SMS credits", edit="Edit", addons="Add-ons",
    add_to_plan="Add to plan", review="Review purchase", confirm="Confirm purchase",
    continue_="Continue", extra_credits="Extra credits", cancel_addon="Cancel add-on",
    sign_out="Sign out", per_month="{price} per month", resume="Resume",
    end_at_renewal="End at renewal", change_tier="Change tier", refunded="Refunded",
)  # fmt: skip
PT_BR = Labels(
    accept_language="pt-BR,pt;q=0.9", locale="pt_BR", api_token="Token da API",
    sign_in="Entrar", heading="Faturamento e Upgrade", credits="{n} créditos de SMS",
    edit="Editar", addons="Adicionais", add_to_plan="Adicionar ao plano",
    review="Revisar compra", confirm="Confirmar compra", continue_="Continuar",
    extra_credits="Créditos extras", cancel_addon="Cancelar adicional", sign_out="Sair",
    per_month="{price} por mês", resume="Retomar", end_at_renewal="Encerrar na renovação",
    change_tier="Mudar de faixa", refunded="Reembolsado",
)  # fmt: skip
LANGUAGES = {"en": EN, "pt-BR": PT_BR}


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    height: int
    touch: bool


PHONE = Size("phone", 390, 844, touch=True)
DESKTOP = Size("desktop", 1280, 900, touch=False)
SIZES = {"phone": PHONE, "desktop": DESKTOP}


def money(amount_minor: int, currency: str, labels: Labels) -> str:
    return format_currency(Decimal(amount_minor) / 100, currency, locale=labels.locale)


def credits_label(balance: int, labels: Labels) -> str:
    return labels.credits.format(n=format_decimal(balance, locale=labels.locale))


def name_account(shop: Shop, name: str) -> None:
    """What the customer calls the account (the page's top left), instead of its id."""
    with shop.sessions.begin() as session:
        account = session.get(Account, shop.account_id)
        assert account is not None
        account.name = name


@asynccontextmanager
async def serve_page(shop: Shop, database_url: str) -> AsyncIterator[str]:
    """The real app (JSON API and /billing) on a free loopback port, in this event
    loop so that it shares the test's Temporal client; its base URL."""
    settings = settings_for(database_url, sms_task_queue=shop.task_queue)
    async with over_http(build_services(settings, shop.env.client)) as base:
        yield base


@dataclass
class Visit:
    """One browser tab on the billing page, in one language, at one size."""

    page: Page
    base: str
    labels: Labels
    size: Size
    name: str
    urls: list[str]
    step: int = 0
    axe: Axe = field(default_factory=Axe)

    async def shot(self, what: str, *, full_page: bool = False) -> None:
        """A screenshot of what the customer sees now (or of the whole page)."""
        self.step += 1
        if os.environ.get("SCREENSHOTS") != "1":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{self.step:02d}-{what}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)

    async def press(self, target: Locator) -> None:
        """Tap it on a phone, click it with the mouse on a desktop."""
        if self.size.touch:
            await target.tap()
        else:
            await target.click()

    async def press_and_load(self, target: Locator) -> None:
        async with self.page.expect_navigation():
            await self.press(target)

    def button(self, name: str, within: Page | Locator | None = None) -> Locator:
        return (within or self.page).get_by_role("button", name=name, exact=True)

    def dialog(self, name: str) -> Locator:
        return self.page.get_by_role("dialog", name=name)

    async def sign_in(self, token: str, shot: bool = True) -> None:
        """Sign in by keyboard alone: the field is the first stop, Enter submits."""
        await self.page.goto(f"{self.base}/billing")
        assert self.page.url == f"{self.base}/billing/sign-in"
        await self.page.keyboard.press("Tab")
        field_ = self.page.get_by_label(self.labels.api_token)
        assert await field_.evaluate("el => el === document.activeElement")
        await field_.fill(token)
        if shot:
            await self.shot("sign-in")
        await self.page.keyboard.press("Enter")
        await self.page.get_by_role("heading", name=self.labels.heading, exact=True).wait_for()

    async def credits_text(self) -> str:
        return (await self.page.locator("#credit-balance").inner_text()).strip()

    async def alert(self) -> str:
        return (await self.page.get_by_role("alert").inner_text()).strip()

    def purchase_id(self) -> str:
        query = self.page.url.split("?", 1)[1]
        return dict(part.split("=", 1) for part in query.split("&"))["purchase"]

    def sms_card(self) -> Locator:
        return self.page.get_by_role("region", name=self.labels.addons).get_by_role(
            "article", name="SMS"
        )

    async def add_to_plan(self, tier: str, button: str = "") -> None:
        card = self.sms_card()
        await card.get_by_role("combobox").select_option(tier)
        await self.press_and_load(self.button(button or self.labels.add_to_plan, card))

    async def looks_right(self) -> None:
        """What every state of the page must be, at every size: axe-core finds nothing
        serious, nothing is wider than the screen, headings are not cut, every
        control is big enough for a finger on a touch screen, open dialogs fit."""
        report = await self.axe.run(self.page)
        serious = [v for v in report.response["violations"] if v["impact"] in SERIOUS]
        assert not serious, report.generate_report()
        layout = await self.page.evaluate(LAYOUT_PROBE, TOUCH_TARGET if self.size.touch else 0)
        assert layout == {"wider": [], "cut": [], "small": [], "outside": []}, layout

    async def tab_to(self, target: Locator, limit: int = 60) -> None:
        """Move the keyboard focus to ``target`` with Tab alone."""
        for _ in range(limit):
            if await target.evaluate("el => el === document.activeElement"):
                return
            await self.page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached {target}")

    async def focused_is(self, target: Locator) -> None:
        await expect(target).to_be_focused()


# What looks_right measures, in the page: elements wider than the viewport, headings
# cut, visible controls under the touch size, open dialogs not inside the viewport.
LAYOUT_PROBE = """(least) => {
  const root = document.documentElement, width = root.clientWidth, height = window.innerHeight;
  const name = el => (el.id ? "#" + el.id : el.tagName) + " "
    + (el.textContent || "").trim().slice(0, 40);
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const inDialog = el => el.closest("dialog");
  const open = document.querySelector("dialog[open]");
  const controls = [...document.querySelectorAll("button, select, input:not([type=hidden]), a")]
    .filter(shown).filter(el => !open || inDialog(el) === open);
  return {
    wider: root.scrollWidth > width ? [root.scrollWidth] : [],
    cut: [...document.querySelectorAll("h1, h2, h3")].filter(shown)
      .filter(h => h.scrollWidth > h.clientWidth + 1).map(name),
    small: least ? controls.filter(el => el.getBoundingClientRect().height < least).map(name) : [],
    outside: [...document.querySelectorAll("dialog[open]")].map(d => [d, d.getBoundingClientRect()])
      .filter(([, r]) => r.left < 0 || r.top < 0 || r.right > width || r.bottom > height)
      .map(([d]) => name(d)),
  };
}"""


@asynccontextmanager
async def visit(
    browser: Browser, base: str, labels: Labels, size: Size, name: str
) -> AsyncIterator[Visit]:
    context = await browser.new_context(
        locale=labels.accept_language.split(",")[0],
        extra_http_headers={"Accept-Language": labels.accept_language},
        viewport={"width": size.width, "height": size.height},
        is_mobile=size.touch,
        has_touch=size.touch,
    )
    page = await context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    try:
        yield Visit(page, base, labels, size, name, urls)
    finally:
        await context.close()


async def api_json(shop: Shop, path: str, token_headers: dict[str, str]) -> Any:
    response = await shop.api.get(
        f"/v1/accounts/{shop.account_id}/sms{path}", headers=token_headers
    )
    assert response.status_code == 200, response.text
    return response.json()

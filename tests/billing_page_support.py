"""The billing page in a real browser: Debian's chromium driven by Playwright, against
the real app served by uvicorn on a free port, with the real worker and Temporal.

Nothing is downloaded: Playwright's own browser download is never used; if
/usr/bin/chromium is missing the tests fail at once with the command to run.
With SCREENSHOTS=1 each step is saved under docs/billing-page/.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_currency, format_decimal
from playwright.async_api import Browser, Page

from starter.api.app import build_services
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


@dataclass(frozen=True)
class Labels:
    """API.md's labels, verbatim, and the locale the tests expect numbers in."""

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


EN = Labels(
    "en-US,en;q=0.9", "en", "API token", "Sign in", "Billing & Upgrade", "{n} SMS credits",
    "Edit", "Add-ons", "Add to plan", "Review purchase", "Confirm purchase", "Continue",
    "Extra credits", "Cancel add-on", "Sign out", "{price} per month",
)  # fmt: skip
PT_BR = Labels(
    "pt-BR,pt;q=0.9", "pt_BR", "Token da API", "Entrar", "Faturamento e Upgrade",
    "{n} créditos de SMS", "Editar", "Adicionais", "Adicionar ao plano", "Revisar compra",
    "Confirmar compra", "Continuar", "Créditos extras", "Cancelar adicional", "Sair",
    "{price} por mês",
)  # fmt: skip
LANGUAGES = {"en": EN, "pt-BR": PT_BR}


def money(amount_minor: int, currency: str, labels: Labels) -> str:
    return format_currency(Decimal(amount_minor) / 100, currency, locale=labels.locale)


def credits_label(balance: int, labels: Labels) -> str:
    return labels.credits.format(n=format_decimal(balance, locale=labels.locale))


@asynccontextmanager
async def serve_page(shop: Shop, database_url: str) -> AsyncIterator[str]:
    """The real app (JSON API and /billing) on a free loopback port, in this event
    loop so that it shares the test's Temporal client; its base URL."""
    settings = settings_for(database_url, sms_task_queue=shop.task_queue)
    async with over_http(build_services(settings, shop.env.client)) as base:
        yield base


@dataclass
class Visit:
    """One browser tab on the billing page in one language."""

    page: Page
    base: str
    labels: Labels
    name: str
    urls: list[str]
    step: int = 0

    async def shot(self, what: str, *, full_page: bool = False, dialog: str = "") -> None:
        """A screenshot of the page, or only of the open dialog named ``dialog``."""
        self.step += 1
        if os.environ.get("SCREENSHOTS") != "1":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = str(SCREENSHOTS / f"{self.name}-{self.step:02d}-{what}.png")
        if dialog:
            await self.page.get_by_role("dialog", name=dialog).screenshot(path=path)
        else:
            await self.page.screenshot(path=path, full_page=full_page)

    async def sign_in(self, token: str, shot: bool = True) -> None:
        """Sign in by keyboard alone: the field is the first stop, Enter submits."""
        await self.page.goto(f"{self.base}/billing")
        assert self.page.url == f"{self.base}/billing/sign-in"
        await self.page.keyboard.press("Tab")
        field = self.page.get_by_label(self.labels.api_token)
        assert await field.evaluate("el => el === document.activeElement")
        await field.fill(token)
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

    async def add_to_plan(self, tier: str) -> None:
        card = self.page.get_by_role("region", name=self.labels.addons).get_by_role(
            "article", name="SMS"
        )
        await card.locator("select").select_option(tier)
        await card.get_by_role("button", name=self.labels.add_to_plan).click()
        await self.page.wait_for_load_state()


@asynccontextmanager
async def visit(browser: Browser, base: str, labels: Labels, name: str) -> AsyncIterator[Visit]:
    context = await browser.new_context(
        locale=labels.accept_language.split(",")[0],
        extra_http_headers={"Accept-Language": labels.accept_language},
        viewport={"width": 900, "height": 640},
    )
    page = await context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    try:
        yield Visit(page, base, labels, name, urls)
    finally:
        await context.close()


async def api_json(shop: Shop, path: str, token_headers: dict[str, str]) -> Any:
    response = await shop.api.get(
        f"/v1/accounts/{shop.account_id}/sms{path}", headers=token_headers
    )
    assert response.status_code == 200, response.text
    return response.json()

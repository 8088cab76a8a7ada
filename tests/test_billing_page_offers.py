"""What the billing page offers, read from its HTML: nothing the account cannot take
now (a purchase being processed holds Edit and Add to plan, saying why), and the
page's own icon at /favicon.ico."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from domain.enums import ItemType, PurchaseStatus
from domain.purchase import PurchaseItem
from store.models import Purchase
from store.purchases import record_new_purchase
from tests.page_support import PageVisit
from tests.purchase_support import open_shop

IN_FLIGHT = "A purchase is being processed. Reload the page in a moment to see it."


def disabled_with_reason(html: str, label: str) -> str | None:
    """The id of the reason a disabled button named ``label`` points to, if it is."""
    for button in re.findall(r"<button[^>]*>[^<]*</button>", html):
        if button.endswith(f">{label}</button>") and " disabled" in button:
            found = re.search(r'aria-describedby="([^"]+)"', button)
            return None if found is None else found.group(1)
    return None


async def test_a_purchase_in_flight_holds_the_next_one(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        await shop.bought({"type": "addon", "tier": "sms-1000"})
        page = PageVisit(shop)
        await page.sign_in()
        html = await page.html()
        assert disabled_with_reason(html, "Edit") is None and 'id="extra-credits"' in html

        pack = PurchaseItem(type=ItemType.CREDIT_PACK, pack="pack-500")
        row = record_new_purchase(
            shop.sessions, account_id=shop.account_id, user_id="ana", item=pack, key=None,
            at=datetime.now(UTC),
        )  # fmt: skip
        with shop.sessions.begin() as session:  # confirmed: its money is moving
            purchase = session.get(Purchase, row.purchase_id)
            assert purchase is not None
            purchase.status = PurchaseStatus.PROCESSING.value
        html = await page.html()
        assert disabled_with_reason(html, "Edit") == "edit-reason"
        assert disabled_with_reason(html, "Change tier") == "tier-reason"
        assert IN_FLIGHT in html and 'id="extra-credits"' not in html

        with shop.sessions.begin() as session:
            purchase = session.get(Purchase, row.purchase_id)
            assert purchase is not None
            purchase.status = PurchaseStatus.COMPLETED.value
        html = await page.html()
        assert disabled_with_reason(html, "Edit") is None and IN_FLIGHT not in html


async def test_the_page_has_its_own_icon(time_skipping_env, sqlite_sessions, sqlite_url):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url, worker=False) as shop:
        for path in ("/favicon.ico", "/billing/assets/favicon.svg"):
            icon = await shop.api.get(path)
            assert icon.status_code == 200, path
            assert icon.headers["content-type"].startswith("image/svg+xml")
            assert icon.text.startswith("<svg") and "http" not in icon.text.replace(
                'xmlns="http://www.w3.org/2000/svg"', ""
            )
        sign_in = await shop.api.get("/billing/sign-in")
        assert '<link rel="icon" href="/billing/assets/favicon.svg"' in sign_in.text

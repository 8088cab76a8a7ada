"""Every figure of the add-on is told once (domain/addon_outlook.py): the JSON API, the
billing page, the review of a purchase and the subscription's details line in the
Temporal UI say the same next charge and monthly credits while the lines change every
way (a pack added, a pack ended, an upgrade, a downgrade scheduled, a cancel, a
resume), and the renewal then captures and grants exactly what they said."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle

from contracts.subscription import subscription_workflow_id
from tests.invariants import check_money
from tests.page_support import PageVisit, text_of
from tests.purchase_support import Shop, open_shop
from tests.test_tier_change import go_past, moment

WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Figures:
    """What one side says: the next charge (None when there is none) and the monthly
    credits after the renewal (None when the add-on ends by then)."""

    next_charge: str | None  # "$18.00"
    credits_after: int | None


def dollars(minor: int | None) -> str | None:
    return None if minor is None else f"${minor / 100:,.2f}"


async def api_figures(shop: Shop) -> tuple[Figures, dict[str, Any]]:
    addon = (await shop.get())["addon"]
    return Figures(
        dollars(addon["next_charge_minor"]), addon["monthly_credits_after_renewal"]
    ), addon


async def page_figures(page: PageVisit) -> Figures:
    html = await page.html()
    charge = text_of(html, "next-charge")
    monthly = text_of(html, "monthly-credits-after") or text_of(html, "monthly-credits")
    assert monthly is not None
    credits = int(re.findall(r"\d[\d,]*", monthly)[0].replace(",", ""))
    amount = None if charge is None else charge.split(" on ")[0]
    ends = text_of(html, "addon-ends") is not None
    return Figures(amount, None if ends else credits)


def review_figures(html: str) -> Figures:
    recurring = text_of(html, "recurring-total")
    after = text_of(html, "monthly-after")
    assert recurring is not None and after is not None
    return Figures(recurring.split(" per ")[0], int(after.replace(",", "")))


async def workflow_details(shop: Shop) -> str:
    handle: WorkflowHandle[Any, Any] = shop.env.client.get_workflow_handle(
        subscription_workflow_id(shop.account_id)
    )
    metadata: WorkflowMetadata = await handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return metadata.current_details


async def details_say(shop: Shop, expected: Figures) -> str:
    """The details line, once the workflow has taken the change in (a signal is
    applied a moment after the purchase that sent it)."""
    said = ""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        said = await workflow_details(shop)
        charge = re.search(r"charges (\$[\d,.]+)", said)
        after = re.search(r"; ([\d,]+) credits/month from", said)
        shown = Figures(
            charge.group(1) if charge else None,
            int(after.group(1).replace(",", "")) if after else expected.credits_after,
        )
        if shown == expected:
            return said
        await asyncio.sleep(0.1)
    raise AssertionError(f"the details line says {said!r}, the API {expected}")


async def all_agree(shop: Shop, page: PageVisit, expected: Figures) -> dict[str, Any]:
    """The API, the page and the details line say ``expected``; answers the API's add-on."""
    from_api, addon = await api_figures(shop)
    assert from_api == expected
    assert await page_figures(page) == expected
    await details_say(shop, expected)
    return addon


async def test_the_api_the_page_the_review_and_the_details_say_what_is_charged(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        page = PageVisit(shop)
        await page.sign_in()

        purchase_id, review = await page.review(tier="sms-1000")
        assert review_figures(review) == Figures("$18.00", 1000)
        await page.confirm(purchase_id)
        await all_agree(shop, page, Figures("$18.00", 1000))

        pack_id, review = await page.review(pack="pack-500")  # a pack added
        assert review_figures(review) == Figures("$27.00", 1500)
        await page.confirm(pack_id)
        await all_agree(shop, page, Figures("$27.00", 1500))

        where = await page.post(f"/lines/{pack_id}/end")  # a pack ended
        assert "notice=line_ending" in where, where
        addon = await all_agree(shop, page, Figures("$18.00", 1000))
        renewal = moment(addon["next_charge_at"])
        assert addon["pending_changes"][0]["kind"] == "pack_ends"

        upgrade_id, review = await page.review(tier="sms-2500")  # an upgrade, the pack ending
        assert review_figures(review) == Figures("$40.00", 2500)
        await page.confirm(upgrade_id)
        await all_agree(shop, page, Figures("$40.00", 2500))

        downgrade_id, review = await page.review(tier="sms-1000")  # a downgrade scheduled
        assert review_figures(review) == Figures("$18.00", 1000)
        words = text_of(review, "change-when")
        assert words is not None and f"renewal of {renewal:%B} {renewal.day}, " in words, words
        assert text_of(review, "review-next-charge") == f"{renewal:%B} {renewal.day}, {renewal:%Y}"
        await page.confirm(downgrade_id)
        addon = await all_agree(shop, page, Figures("$18.00", 1000))
        assert {c["kind"] for c in addon["pending_changes"]} == {"pack_ends", "tier_starts"}

        assert "notice=addon_cancelling" in await page.post("/addon/cancel")  # a cancel
        await all_agree(shop, page, Figures(None, None))
        assert "notice=addon_resumed" in await page.post("/addon/resume")  # a resume
        said = await all_agree(shop, page, Figures("$18.00", 1000))
        assert said["monthly_credits"] == 3000  # 2,500 and the ending pack, until then

        # The renewal charges and grants what all four said.
        captured_before = len((await shop.get("/payments"))["payments"])
        await go_past(shop, renewal)
        payments = (await shop.get("/payments"))["payments"]
        assert len(payments) == captured_before + 1
        assert (payments[0]["amount_minor"], payments[0]["status"]) == (1800, "succeeded")
        ledger = (await shop.get("/ledger"))["entries"]
        grants = [e["credits"] for e in ledger if e["kind"] == "grant"]
        assert grants[0] == 1000  # the renewal's, newest
        addon = await all_agree(shop, page, Figures("$18.00", 1000))
        assert (addon["monthly_credits"], addon["pending_changes"]) == (1000, [])
        assert moment(addon["next_charge_at"]) > renewal + timedelta(days=27)
        check_money(shop.sessions, shop.account_id)

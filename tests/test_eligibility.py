"""The billing page data and the offers say whether the account may buy, before it tries."""

from __future__ import annotations

from domain.enums import Plan
from tests.purchase_support import open_shop

ADDON = {"type": "addon", "tier": "sms-1000"}


async def test_a_starter_account_sees_it_cannot_buy(time_skipping_env, sqlite_sessions, sqlite_url):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url, plan=Plan.STARTER) as shop:
        page, offers = await shop.get(), await shop.get("/offers")
        refused = await shop.buy(ADDON)
    assert refused.status_code == 409, refused.text
    # The reason shown up front is the refusal a purchase gets, word for word.
    reason = {"code": "plan_not_eligible", "message": refused.json()["error"]["message"]}
    assert refused.json()["error"]["code"] == "plan_not_eligible"
    for answer in (page, offers):
        assert answer["eligible"] is False
        assert answer["ineligible_reason"] == reason
    # Every field there was before stays.
    assert page["addon"]["status"] == "inactive" and page["credits"]["balance"] == 0
    assert offers["addon_tiers"] and offers["credit_packs"]


async def test_an_account_on_an_eligible_plan_may_buy(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    for plan in (Plan.PLUS, Plan.PROFESSIONAL, Plan.ENTERPRISE):
        async with open_shop(
            time_skipping_env, sqlite_sessions, sqlite_url, plan=plan, worker=False
        ) as shop:
            for answer in (await shop.get(), await shop.get("/offers")):
                assert (answer["eligible"], answer["ineligible_reason"]) == (True, None), plan

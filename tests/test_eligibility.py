"""The billing page data and the offers say whether the account may buy, before it tries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from application.callers import Caller
from domain.enums import Plan, Role
from starter.api.app import build_services
from starter.web.views import load
from tests.purchase_support import open_shop
from tests.support import create_account, settings_for

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


def test_the_page_offers_what_the_catalogue_says(sqlite_engine, sqlite_url):
    """The billing page takes eligibility from the catalogue, not from the plan's name."""
    services = build_services(settings_for(sqlite_url))
    now = datetime.now(UTC)
    create_account(services.sessions, "acme", plan=Plan.STARTER, anchor=now.date(), now=now)
    caller = Caller("acme", "ana", Role.PRIMARY_ADMIN, billing_permission=False)
    assert load(services, caller, None).eligible is False
    plans = dict(services.catalogue.plans)
    plans[Plan.STARTER] = plans[Plan.STARTER].model_copy(update={"sms_addon_eligible": True})
    generous = replace(services, catalogue=services.catalogue.model_copy(update={"plans": plans}))
    assert load(generous, caller, None).eligible is True
    services.writer.close()
    services.engine.dispose()

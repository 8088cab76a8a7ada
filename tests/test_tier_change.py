"""Changing the add-on's tier through the purchase API (API.md "Changing tier"): an
upgrade now, prorated; a downgrade at the next renewal, free; never two at once."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from contracts.subscription import subscription_workflow_id
from tests.invariants import check_money
from tests.purchase_support import Shop, open_shop
from tests.support import keep_history

SMS_500 = {"type": "addon", "tier": "sms-500"}
SMS_1000 = {"type": "addon", "tier": "sms-1000"}
SMS_2500 = {"type": "addon", "tier": "sms-2500"}
SMS_5000 = {"type": "addon", "tier": "sms-5000"}
PACK = {"type": "credit_pack", "pack": "pack-500"}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def half_up(numerator: int, denominator: int) -> int:
    return int(Fraction(numerator, denominator) + Fraction(1, 2))


def code(response: Any) -> str:
    return str(response.json()["error"]["code"])


async def go_past(shop: Shop, at: datetime) -> None:
    """Skip the shared clock to an hour after ``at`` (its renewal has run by then)."""
    now = await shop.env.get_current_time()
    await shop.env.sleep(at - now + timedelta(hours=1))


def subscription(shop: Shop) -> Any:
    return shop.env.client.get_workflow_handle(subscription_workflow_id(shop.account_id))


async def test_an_upgrade_mid_period_charges_the_prorated_difference_at_once(
    time_skipping_env, sessions, database_url
):
    today = (await time_skipping_env.get_current_time()).date()
    anchor = date(today.year - 1, today.month, 1) if today.day > 10 else today - timedelta(days=40)
    async with open_shop(time_skipping_env, sessions, database_url, anchor=anchor) as shop:
        first = await shop.bought(SMS_1000)
        page = await shop.get()
        start, end = moment(page["addon"]["period_start"]), moment(page["addon"]["period_end"])
        left, total = (end.date() - today).days, (end.date() - start.date()).days
        assert 0 < left < total  # mid-period: the test means it

        review = await shop.buy(SMS_2500)
        assert review.status_code == 201, review.text
        quote = review.json()["quote"]
        due = half_up((4000 - 1800) * left, total)
        assert quote["due_now_minor"] == due
        assert [line["amount_minor"] for line in quote["lines"]] == [due]
        assert "instead of SMS add-on, 1,000 credits/month" in quote["lines"][0]["description"]
        assert f"prorated {left}/{total} days" in quote["lines"][0]["description"]
        assert (quote["credits_now"], quote["monthly_credits_after"]) == (1500, 2500)
        assert (quote["recurring_minor"], quote["next_charge_at"]) == (
            4000,
            page["addon"]["period_end"],
        )
        assert quote["tier_change"] == {
            "from_tier": "sms-1000",
            "to_tier": "sms-2500",
            "direction": "upgrade",
        }
        done = await shop.confirm(review.json()["purchase_id"])
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "completed"
        assert done.json()["payment"]["amount_minor"] == due
        await keep_history(shop.handle(review.json()["purchase_id"]), "purchase/upgraded")

        page = await shop.get()
        addon = page["addon"]
        assert (addon["tier"], addon["monthly_credits"], addon["next_charge_minor"]) == (
            "sms-2500",
            2500,
            4000,
        )
        assert [(line["kind"], line["item_id"]) for line in addon["lines"]] == [
            ("tier", "sms-2500")
        ]
        assert page["credits"]["balance"] == 1000 + 1500
        assert shop.balance() == 2500
        check_money(shop.sessions, shop.account_id)

        await go_past(shop, end)
        payments = (await shop.get("/payments"))["payments"]
        assert [p["amount_minor"] for p in payments] == [
            4000,
            due,
            first["payment"]["amount_minor"],
        ]
        assert shop.balance() == 2500  # the new month's allotment, the rest expired
        assert check_money(shop.sessions, shop.account_id) == {"completed": 2}


async def test_a_downgrade_applies_at_the_next_renewal_without_charge(
    time_skipping_env, sessions, database_url
):
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        await shop.bought(SMS_2500)
        end = moment((await shop.get())["addon"]["period_end"])
        review = await shop.buy(SMS_500)
        assert review.status_code == 201, review.text
        quote = review.json()["quote"]
        assert (quote["due_now_minor"], quote["credits_now"]) == (0, 0)
        assert moment(quote["effective_at"]) == end
        assert (quote["recurring_minor"], quote["monthly_credits_after"]) == (1000, 500)
        assert quote["tier_change"]["direction"] == "downgrade"
        assert [line["amount_minor"] for line in quote["lines"]] == [0]
        assert f"from the renewal of {end:%Y-%m-%d}" in quote["lines"][0]["description"]

        done = await shop.confirm(review.json()["purchase_id"])
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["payment"]) == ("completed", None)
        await keep_history(shop.handle(review.json()["purchase_id"]), "purchase/downgraded")

        addon = (await shop.get())["addon"]  # this month keeps what was paid for
        assert (addon["tier"], addon["monthly_credits"], addon["next_charge_minor"]) == (
            "sms-2500",
            2500,
            1000,
        )
        lines = {line["item_id"]: line for line in addon["lines"]}
        assert moment(lines["sms-2500"]["ends_at"]) == end
        assert moment(lines["sms-500"]["starts_at"]) == end
        assert shop.balance() == 2500
        assert shop.counts() == (1, 1)

        await go_past(shop, end)
        addon = (await shop.get())["addon"]
        assert (addon["tier"], addon["monthly_credits"], addon["next_charge_minor"]) == (
            "sms-500",
            500,
            1000,
        )
        assert [line["item_id"] for line in addon["lines"]] == ["sms-500"]
        payments = (await shop.get("/payments"))["payments"]
        assert [p["amount_minor"] for p in payments] == [1000, 4000]
        assert shop.balance() == 500
        assert check_money(shop.sessions, shop.account_id) == {"completed": 2}
        await go_past(shop, end + timedelta(days=31))  # and the month after, the same
        payments = (await shop.get("/payments"))["payments"]
        assert [p["amount_minor"] for p in payments] == [1000, 1000, 4000]
        assert shop.balance() == 500
        check_money(shop.sessions, shop.account_id)
        await keep_history(subscription(shop), "subscription/downgraded")


async def test_a_tier_change_needs_an_active_addon_on_another_tier(
    time_skipping_env, sessions, database_url
):
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        await shop.bought(SMS_1000)
        same = await shop.buy(SMS_1000)
        assert (same.status_code, code(same)) == (409, "addon_already_active")
        cancelled = await shop.api.post(
            f"/v1/accounts/{shop.account_id}/sms/addon/cancel", headers=shop.admin
        )
        assert cancelled.status_code == 200, cancelled.text
        cancelling = await shop.buy(SMS_2500)
        assert (cancelling.status_code, code(cancelling)) == (409, "addon_not_active")
        plain = await shop.buy(SMS_2500, who=shop.plain)
        assert (plain.status_code, code(plain)) == (403, "billing_permission_required")
        # Refused before anything is recorded: two purchases were refused by the workflow.
        assert check_money(shop.sessions, shop.account_id) == {"completed": 1, "rejected": 2}


async def test_a_quote_made_before_a_cancel_is_refused_uncharged(
    time_skipping_env, sessions, database_url
):
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        await shop.bought(SMS_1000)
        review = await shop.buy(SMS_2500)
        assert review.status_code == 201, review.text
        cancelled = await shop.api.post(
            f"/v1/accounts/{shop.account_id}/sms/addon/cancel", headers=shop.admin
        )
        assert cancelled.status_code == 200, cancelled.text
        refused = await shop.confirm(review.json()["purchase_id"])
        assert (refused.status_code, code(refused)) == (409, "addon_not_active")
        assert check_money(shop.sessions, shop.account_id) == {"completed": 1, "rejected": 1}
        assert shop.counts() == (1, 1)


async def test_two_tier_changes_confirmed_at_once_move_money_once(
    time_skipping_env, sessions, database_url
):
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        await shop.bought(SMS_1000)
        bigger = (await shop.buy(SMS_2500)).json()["purchase_id"]
        biggest = (await shop.buy(SMS_5000)).json()["purchase_id"]
        answers = await asyncio.gather(shop.confirm(bigger), shop.confirm(biggest))
        won = [a for a in answers if a.status_code == 200]
        lost = [a for a in answers if a.status_code != 200]
        assert len(won) == 1 and len(lost) == 1, [a.text for a in answers]
        assert (lost[0].status_code, code(lost[0])) == (409, "conflict")
        assert lost[0].json()["error"]["purchase"]["payment"] is None
        winner = won[0].json()
        addon = (await shop.get())["addon"]
        assert addon["tier"] == winner["item"]["tier"]
        assert check_money(shop.sessions, shop.account_id) == {"completed": 2, "rejected": 1}
        payments = (await shop.get("/payments"))["payments"]
        assert [p["amount_minor"] for p in payments] == [winner["payment"]["amount_minor"], 1800]

        # The loser's quote is stale now: confirming it again changes nothing.
        again = await shop.confirm(lost[0].json()["error"]["purchase"]["purchase_id"])
        assert again.status_code == 409
        assert shop.counts() == (2, 2)

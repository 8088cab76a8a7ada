"""A payment request the provider refuses for a reason other than the card (a bad
parameter, an API-version change, a live key): the purchase ends ``failed`` with the
provider's message, the confirm answers 502 ``payment_provider_error``, nothing is
captured and the account's add-on claim is released, so its next purchase is not
refused as already active."""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowExecutionStatus

from store.db import transaction
from store.models import Account
from tests.invariants import check_money
from tests.purchase_support import Shop, open_shop
from tests.stripe_support import intents_of, stripe_settings, stripe_worker
from tests.support import keep_history

ADDON = {"type": "addon", "tier": "sms-1000"}
REFUSED_BY_SANDBOX = "pm_provider_refuses"


async def refused_purchase(shop: Shop) -> dict[str, Any]:
    """Review and confirm the add-on; the confirm's 502 and the purchase it names."""
    quote = await shop.buy(ADDON)
    assert quote.status_code == 201, quote.text
    purchase_id = quote.json()["purchase_id"]
    refused = await shop.confirm(purchase_id)
    assert refused.status_code == 502, refused.text
    error = refused.json()["error"]
    assert error["code"] == "payment_provider_error"
    read = await shop.get(f"/purchases/{purchase_id}")
    assert error["purchase"] == read
    assert read["status"] == "failed"
    assert read["failure"]["code"] == "payment_provider_error"
    assert read["payment"] is None and read["completed_at"] is not None
    described = await shop.handle(purchase_id).describe()
    assert described.status is WorkflowExecutionStatus.COMPLETED
    return dict(read)


async def test_a_request_stripe_refuses_fails_the_purchase_and_frees_the_claim(
    time_skipping_env, sessions, database_url, localstripe
):
    env = time_skipping_env
    stripe = stripe_settings(localstripe)
    async with (
        open_shop(env, sessions, database_url, worker=False, **stripe) as shop,
        stripe_worker(env.client, sessions, shop.task_queue, localstripe, as_for_stripe=True),
    ):
        first = await refused_purchase(shop)
        # Not 409 addon_already_active: the failed purchase holds no claim.
        second = await refused_purchase(shop)
        payments = (await shop.get("/payments"))["payments"]
        page = await shop.get()
    # The provider's own words: localstripe refuses the parameter real Stripe takes.
    assert "automatic_payment_methods" in first["failure"]["message"]
    assert second["purchase_id"] != first["purchase_id"]
    assert intents_of(localstripe, shop.account_id) == []  # nothing reached a charge
    assert payments == []
    assert page["addon"]["status"] == "inactive" and page["credits"]["balance"] == 0
    assert check_money(sessions, shop.account_id) == {"failed": 2}


async def test_a_request_the_sandbox_provider_refuses_fails_and_the_next_purchase_completes(
    time_skipping_env, sessions, database_url
):
    env = time_skipping_env
    async with open_shop(env, sessions, database_url, payment_method=REFUSED_BY_SANDBOX) as shop:
        failed = await refused_purchase(shop)
        assert REFUSED_BY_SANDBOX in failed["failure"]["message"]
        if database_url.startswith("sqlite"):
            await keep_history(shop.handle(failed["purchase_id"]), "purchase/failed")
        with transaction(sessions) as session:
            account = session.get(Account, shop.account_id)
            assert account is not None
            account.payment_method = "pm_card_visa"
        done = await shop.bought(ADDON)
        payments = (await shop.get("/payments"))["payments"]
    assert [(p["kind"], p["status"]) for p in payments] == [("capture", "succeeded")]
    assert payments[0]["payment_id"] == done["payment"]["payment_id"]
    assert shop.balance() == 1000
    assert check_money(sessions, shop.account_id) == {"failed": 1, "completed": 1}

"""An operator ends the add-on now with a prorated refund, and the payment provider
refuses the refund itself (Stripe on localstripe answering 400 ``invalid_request_error``;
not a lost answer). The end stands; the operator is answered 502
``payment_provider_error`` saying so, with the provider's words and the refund to make
by hand; the end is audited once, and a repeat with the same key answers the same 502
and audits nothing again. Nothing reaches Stripe as a refund until the operator makes
it by hand, as the answer says, once.

On the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from application.operator import REFUND_REFUSED
from contracts.operator import END_NOW_UPDATE, end_now_refund_key
from contracts.subscription import subscription_workflow_id
from domain.calendar import billing_period
from domain.enums import AddonStatus, BillingCycle
from domain.refunds import prorated_unused_minor
from store.models import Payment
from tests.invariants import check_money
from tests.operator_support import audit_of, ops_post
from tests.stripe_support import ProviderLink, intents_of, refunds_of, stripe_shop
from tests.subscription_support import TIER
from tests.support import keep_history
from tests.test_refund_outcome_unknown import accepted_updates

ADDON = {"type": "addon", "tier": "sms-1000"}
END_NOW = {"when": "now", "refund": "prorated", "reason": "fraud"}


async def test_an_end_now_whose_refund_stripe_refuses_answers_502_and_stands(
    time_skipping_env, sessions, database_url, localstripe
):
    env, link = time_skipping_env, ProviderLink()
    async with stripe_shop(env, sessions, database_url, localstripe, link) as shop:
        bought = await shop.bought(ADDON)
        capture = bought["payment"]["payment_id"]
        await env.sleep(timedelta(days=10))
        now = await env.get_current_time()
        period = billing_period(shop.now.date(), BillingCycle.MONTHLY, shop.now)
        owed = prorated_unused_minor(TIER.monthly_price_minor, period, now)
        link.refuse("/refunds")
        refused = await ops_post(shop, "/addon/cancel", END_NOW, key="end-1")
        again = await ops_post(shop, "/addon/cancel", END_NOW, key="end-1")
        page = await shop.get()
        handle = env.client.get_workflow_handle(
            subscription_workflow_id(shop.account_id), result_type=AddonStatus
        )
        assert await handle.result() is AddonStatus.CANCELLED
        if database_url.startswith("sqlite"):
            await keep_history(handle, "subscription/end-now-refund-refused")
        closed = await ops_post(shop, "/addon/cancel", END_NOW, key="end-1")
        assert await accepted_updates(handle, END_NOW_UPDATE) == 1
        (intent,) = intents_of(localstripe, shop.account_id)
        assert refunds_of(localstripe, intent.id) == []  # nothing refunded
        with sessions() as session:
            attempt = session.scalars(
                select(Payment).where(
                    Payment.idempotency_key
                    == end_now_refund_key(shop.account_id, period.start, capture)
                )
            ).one()
            assert (attempt.status, attempt.amount_minor) == ("declined", owed)
        audited = list(audit_of(sessions, shop.account_id))
        # What the answer says to do: the refund by hand, which its amount is free for.
        link.refuse(None)
        by_hand = {"payment_id": capture, "amount_minor": owed, "reason": "end now refund"}
        made = await ops_post(shop, "/refunds", by_hand, key="by-hand")
    assert refused.status_code == 502, refused.text
    error = refused.json()["error"]
    assert error["code"] == "payment_provider_error"
    message = error["message"]
    assert message.startswith("The SMS add-on has ended (cancelled at "), message
    assert "the payment provider refused its prorated refund of $" in message
    assert "refused_by_test" in message  # the provider's own words
    assert f"sms-addon ops refund {shop.account_id} {capture} {owed} " in message
    assert error["addon"]["status"] == "cancelled"
    assert error["addon"]["credits_expired"] == TIER.credits_per_month
    assert (again.status_code, again.json()) == (502, refused.json())
    assert (closed.status_code, closed.json()) == (502, refused.json())
    assert page["addon"]["status"] == "cancelled" and page["credits"]["balance"] == 0
    (record,) = audited  # once, though it answered an error, and not again on repeats
    assert (record.action, record.request_key, record.reference) == (
        "end_now",
        "end-1",
        REFUND_REFUSED,
    )
    assert record.payload["result"] == refused.json()
    assert made.status_code == 201, made.text
    (refund,) = refunds_of(localstripe, intent.id)
    assert (refund.status, refund.amount, refund.id) == (
        "succeeded",
        owed,
        made.json()["provider_ref"],
    )
    check_money(sessions, shop.account_id)

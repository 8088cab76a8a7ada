"""An operator ends the add-on at once (the subscription's ``end_now`` update): its
credits expire and it is cancelled under the add-on's lock; with ``prorated``, the
unused days of the paid period go back (``domain.refunds``), sent to the provider once
the lock is free, so a provider that does not answer never holds the add-on."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from workflows.addon_keeper import AddonKeeper
from workflows.payment_outcomes import PaymentOutcomes

with workflow.unsafe.imports_passed_through():
    from activities.operator import OperatorActivities
    from boundary.options import BOUNDED_GATEWAY_CALL
    from contracts.operator import EndedNow, EndNowRefund, RefundedPayment
    from domain.enums import AddonStatus
    from workflows.summaries import day


async def end_at_once(
    addon: AddonKeeper, prorated: bool, now: datetime
) -> tuple[EndedNow, EndNowRefund | None]:
    """End at once; the caller holds the lock. With ``prorated``, also the refund it
    owes, for :func:`refund_unused_period` to send once the lock is free."""
    state = addon.state
    period = state.unused_paid_period(now)
    recurring = state.totals.recurring_minor(state.billing_cycle)
    expired = await addon.end(AddonStatus.CANCELLED, now)
    addon.wake()
    ended = EndedNow(status=state.status, ends_at=now, credits_expired=expired, refunds=[])
    if not prorated or period is None:
        return ended, None
    refund = EndNowRefund(
        account_id=addon.account_id,
        period_start=period.start,
        period_end=period.end,
        recurring_minor=recurring,
        at=now,
    )
    return ended, refund


async def refund_unused_period(addon: AddonKeeper, refund: EndNowRefund) -> list[RefundedPayment]:
    """The refund, sent again after a pause (under its keys) until the provider answers."""

    async def send() -> list[RefundedPayment]:
        return await workflow.execute_activity_method(
            OperatorActivities.refund_unused_period,
            refund,
            summary=f"prorated refund of the period to {day(refund.period_end)}",
            **BOUNDED_GATEWAY_CALL,
        )

    return await PaymentOutcomes(addon.noted, addon.outage).refunded(send)

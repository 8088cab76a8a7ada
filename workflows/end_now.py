"""An operator ends the add-on at once (the subscription's ``end_now`` update): its
credits expire and it is cancelled under the add-on's lock; with ``prorated``, the
unused days of the paid period go back (``domain.refunds``), sent to the provider once
the lock is free, so a provider that does not answer never holds the add-on. A refund
the provider refuses leaves the end standing: the update answers
``payment_provider_error``, saying so and how to refund by hand."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.addon_keeper import AddonKeeper
from workflows.payment_outcomes import PaymentOutcomes

with workflow.unsafe.imports_passed_through():
    from activities.operator import OperatorActivities
    from boundary.errors import Fault, refusal, refusal_of
    from boundary.options import BOUNDED_GATEWAY_CALL
    from contracts.operator import EndedNow, EndNowRefund, RefundedPayment
    from domain.enums import AddonStatus
    from domain.errors import ErrorCode
    from workflows.summaries import day, moment


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


async def refund_unused_period(
    addon: AddonKeeper, ended: EndedNow, refund: EndNowRefund
) -> EndedNow:
    """The end with its refund, sent again after a pause (under its keys) until the
    provider answers. Refused, the add-on stays ended and the update answers why."""

    async def send() -> list[RefundedPayment]:
        return await workflow.execute_activity_method(
            OperatorActivities.refund_unused_period,
            refund,
            summary=f"prorated refund of the period to {day(refund.period_end)}",
            **BOUNDED_GATEWAY_CALL,
        )

    try:
        refunds = await PaymentOutcomes(addon.noted, addon.outage).refunded(send)
    except ActivityError as error:
        refused = refusal_of(error)
        if refused is None or refused.type != Fault.GATEWAY_REJECTED:
            raise
        message = (
            f"The SMS add-on has ended ({ended.status.value} at {moment(ended.ends_at)}, "
            f"{ended.credits_expired:,} credits expired), but {refused.message}"
        )
        workflow.logger.error("End now of %s: %s", addon.account_id, message)
        addon_ended = ended.model_dump(mode="json", exclude={"refunds"})
        raise refusal(ErrorCode.PAYMENT_PROVIDER_ERROR, message, {"addon": addon_ended}) from error
    return ended.model_copy(update={"refunds": refunds})

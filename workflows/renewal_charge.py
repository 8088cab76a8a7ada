"""A renewal's charge as the subscription sends it, outside its lock (docs/design.md,
"Failure policy"): exactly one charge per renewal however long the provider is out.

The price is read once, when the charge starts (``price``), and every send asks for
that amount. The gateway is retried within a bound (``BOUNDED_GATEWAY_CALL``); past it
the outcome is unknown and the payment janitor settles the attempt against the
provider, while this waits for its answer on durable timers, reading the attempt by
its key (``PaymentOutcomes``, as a purchase's and an auto top-up's capture do). An
attempt the provider never saw is sent again under a new key (``resend``); one nothing
was recorded for is sent again under its own. A send the provider refuses
itself (its configuration, not the card) goes the same way, said in the details line;
refused for good, the renewal waits the longest pause (``domain.provider_refusals``).
A send refused because the add-on row is gone is not sent again: once nothing is
recorded under its key, nothing was charged, and the caller ends the add-on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.outages import Outage, Pauses
from workflows.payment_outcomes import PaymentOutcomes

with workflow.unsafe.imports_passed_through():
    from activities.subscription import SubscriptionActivities
    from boundary.errors import Fault, refusal_of
    from boundary.options import BOUNDED_GATEWAY_CALL, DATABASE_READ, GATEWAY_CALL
    from contracts.payment_janitor import Recorded
    from contracts.subscription import ChargeOutcome, ChargeRequest, ChargeTerms
    from domain.billing import BillingCharge
    from domain.calendar import Period
    from domain.provider_refusals import ProviderRefusals
    from workflows.summaries import day, moment

# A send refused because the add-on row is gone ends the charge, uncharged (added after
# histories were recorded, in which such a send was sent again for ever).
ROW_GONE_PATCH = "renewal-row-gone"


def charge_summary(request: ChargeRequest) -> str:
    """E.g. "charge for the month of 2026-12-26, attempt 1" (".2": its second resend)."""
    resend = f".{request.resend}" if request.resend else ""
    return f"charge for the month of {day(request.month_start)}, attempt {request.attempt}{resend}"


def waiting_note(refusals: ProviderRefusals, now: datetime) -> str:
    """Why the charge waits, for the details line: an outcome the janitor must settle,
    or the provider's refusals (blocked once they are for good)."""
    if refusals.since is None:
        return f"payment outcome unknown since {moment(now)}, left to the janitor"
    times = "once" if refusals.count == 1 else f"{refusals.count} times in a row"
    return (
        f"{'blocked: ' if refusals.for_good else ''}the payment provider refused the "
        f"charge itself, not the card ({times}, since {moment(refusals.since)}): fix its "
        'configuration (runbook, "Renewal charge refused by the provider"); the janitor '
        "closes each attempt and it is sent again"
    )


class RenewalCharges:
    def __init__(self, account_id: str, outage: Outage, note: Callable[[str | None], None]) -> None:
        self._account_id = account_id
        self._outage = outage
        self._note = note  # a line for operators beside the add-on's details, or None
        self._payments = PaymentOutcomes(note, outage)

    def request(
        self, charge: BillingCharge, month: Period, attempt: int, at: datetime
    ) -> ChargeRequest:
        return ChargeRequest(
            account_id=self._account_id,
            month_start=month.start,
            charge=charge,
            attempt=attempt,
            at=at,
        )

    async def send_holding_lock(self, request: ChargeRequest) -> ChargeOutcome:
        """The charge as it was sent before it left the lock: priced by the activity,
        retried until the provider answered (the histories recorded before)."""
        return await workflow.execute_activity_method(
            SubscriptionActivities.charge_addon_renewal,
            request,
            summary=charge_summary(request),
            **GATEWAY_CALL,
        )

    async def price(self, request: ChargeRequest) -> ChargeTerms:
        """What the charge asks for and grants, read once as it starts."""

        async def priced() -> ChargeTerms:
            return await workflow.execute_local_activity_method(
                SubscriptionActivities.price_renewal_charge,
                request,
                summary=f"price the charge for the month of {day(request.month_start)}",
                **DATABASE_READ,
            )

        return await self._outage.waited_out(priced, "pricing a renewal's charge")

    async def collect(self, request: ChargeRequest) -> ChargeOutcome | None:
        """The charge's outcome: paid or declined by the card, never unknown; None when
        the add-on row is gone and nothing was charged. Run without the subscription's
        lock, the charge marked in flight first."""
        pauses, refusals = Pauses(), ProviderRefusals()
        while True:
            outcome, refused = await self._send(request)
            if outcome is None:
                rejected = refused is Fault.GATEWAY_REJECTED
                refusals = refusals.after_send(refused=rejected, at=workflow.now())
                # Refused for good, the outcome is read the longest pause apart: the
                # janitor takes minutes to close the attempt.
                outcome = await self._payments.settled(
                    partial(self._recorded, request),
                    waiting_note(refusals, workflow.now()),
                    longest=refusals.for_good,
                )
                # Nothing under this key, and every key before it was settled as never
                # sent: nothing was charged, and with no add-on nothing can be.
                gone = outcome is None and refused is Fault.MISSING_RECORD
                if gone and workflow.patched(ROW_GONE_PATCH):
                    workflow.logger.error(
                        "The add-on row of %s is gone: its %s was not sent and nothing was "
                        "charged; the add-on ends cancelled.",
                        self._account_id,
                        charge_summary(request),
                    )
                    self._note(None)
                    return None
            if outcome is not None and not outcome.unsent:
                self._note(None)
                return outcome
            if outcome is not None:  # the provider never saw it: a new key cannot charge twice
                request = request.model_copy(update={"resend": request.resend + 1})
            await pauses.wait(
                f"send the charge for {day(request.month_start)} again",
                longest=refusals.for_good,
            )

    async def _send(self, request: ChargeRequest) -> tuple[ChargeOutcome | None, Fault | None]:
        """The gateway's answer within its bound, None when it gave none; and why, when
        it was refused: the provider refused the request itself (its configuration, not
        the card: the janitor settles the attempt it recorded as never sent), or the
        add-on row is gone (this send never reached the provider)."""
        try:
            outcome = await workflow.execute_activity_method(
                SubscriptionActivities.charge_addon_renewal,
                request,
                summary=charge_summary(request),
                **BOUNDED_GATEWAY_CALL,
            )
        except ActivityError as error:
            refused = refusal_of(error)
            if refused is not None and refused.type == Fault.GATEWAY_REJECTED.value:
                workflow.logger.warning("The provider refused the charge: %s", refused.message)
                return None, Fault.GATEWAY_REJECTED
            if refused is not None and refused.type == Fault.MISSING_RECORD.value:
                workflow.logger.warning("The renewal's charge was not sent: %s", refused.message)
                return None, Fault.MISSING_RECORD
            workflow.logger.warning("The renewal's charge has no outcome yet: %s", error)
            return None, None
        return outcome, None

    async def _recorded(self, request: ChargeRequest) -> Recorded[ChargeOutcome] | None:
        return await workflow.execute_local_activity_method(
            SubscriptionActivities.find_renewal_charge,
            request,
            summary=f"read the charge for the month of {day(request.month_start)}",
            **DATABASE_READ,
        )

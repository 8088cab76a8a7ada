"""Calls to the payment provider whose answer may not come (docs/design.md, "Failure
policy"). Each call is retried within a bound (``BOUNDED_GATEWAY_CALL``); past it the
workflow neither retries for ever nor ends as if nothing had happened: it waits on
durable timers (``Pauses``), and its details line says why (``note``).

- A charge (a renewal's, a purchase's, an auto top-up's) past its bound has an unknown
  outcome: the payment janitor settles the attempt recorded under its key against the
  provider, and the workflow reads that attempt by its key until it is settled.
- A refund may be sent again safely (the gateway looks for a refund its key made
  before creating one, and sends the amount first recorded under the key): the
  workflow pauses, then sends it again, until the provider answers.

A refusal (the provider refused the request itself, or declined the refund) is raised
as it came, unless the caller leaves it to the janitor as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.outages import Outage, Pauses

with workflow.unsafe.imports_passed_through():
    from boundary.errors import refusal_of
    from contracts.payment_janitor import Recorded
    from workflows.summaries import moment

T = TypeVar("T")

# Why a charge ended that the payment janitor settled as never seen by the provider.
UNREACHABLE = "The payment provider could not be reached; nothing was charged."


class PaymentOutcomes:
    """The provider's answers for one workflow; ``note`` puts a line for operators
    beside its details (None: nothing is waited for)."""

    def __init__(self, note: Callable[[str | None], None], outage: Outage | None = None) -> None:
        self._note = note
        self._outage = outage or Outage()  # reading a payment waits a database outage out

    async def sent_or_settled(
        self,
        send: Callable[[], Awaitable[T]],
        recorded: Callable[[], Awaitable[Recorded[T] | None]],
        *,
        refusal_settles: bool = False,
    ) -> T | None:
        """``send``'s answer within its bound; past it, the outcome recorded under its
        key once the janitor (or a late answer) has settled it; None when nothing was
        recorded under the key, so nothing can have been charged under it.
        ``refusal_settles``: a refusal of the request is left to the janitor too (it
        settles the attempt as never sent); otherwise it is raised."""
        try:
            return await send()
        except (ActivityError, ApplicationError) as error:  # a local activity's: either
            if not refusal_settles and refusal_of(error) is not None:
                raise
            workflow.logger.warning("The payment has no outcome yet: %s", error)
        unknown = f"payment outcome unknown since {moment(workflow.now())}, left to the janitor"
        return await self.settled(recorded, unknown)

    async def settled(
        self,
        recorded: Callable[[], Awaitable[Recorded[T] | None]],
        note: str,
        *,
        longest: bool = False,
    ) -> T | None:
        """The outcome recorded under a charge's key once it is settled, read after
        growing pauses while it is pending (``note`` says why meanwhile; ``longest``:
        the longest pause at once); None when nothing was recorded under the key."""
        pauses = Pauses()
        self._note(note)
        while True:
            found = await self._outage.waited_out(recorded, "reading a payment's outcome")
            if found is None or found.outcome is not None:
                return None if found is None else found.outcome
            await pauses.wait("wait for the payment janitor to settle the charge", longest=longest)

    async def charged(
        self,
        send: Callable[[], Awaitable[T]],
        recorded: Callable[[], Awaitable[Recorded[T] | None]],
    ) -> T:
        """The charge's outcome, however long the provider is out. Sent again under the
        same key, after a pause, while nothing was recorded under it."""
        pauses = Pauses()
        while (outcome := await self.sent_or_settled(send, recorded)) is None:
            await pauses.wait("send the payment again under its key")
        self._note(None)
        return outcome

    async def refunded(self, send: Callable[[], Awaitable[T]]) -> T:
        """The refund's answer, however long the provider is out: each round of
        attempts bounded, then a pause and the refund sent again under its key."""
        pauses, since = Pauses(), moment(workflow.now())
        try:
            while True:
                try:
                    return await send()
                except ActivityError as error:
                    if refusal_of(error) is not None:
                        raise
                    workflow.logger.warning("The refund has no answer yet: %s", error)
                self._note(f"refund unanswered since {since}, sent again after each pause")
                await pauses.wait("send the refund again under its key")
        finally:
            self._note(None)

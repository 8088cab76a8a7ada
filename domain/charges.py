"""A renewal charge's life: in flight, declined and retried (DESIGN.md §1). Pure; the
subscription's state (``domain.addon``) holds them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from domain.billing import BillingCharge
from domain.calendar import Period


class Dunning(BaseModel):
    """A renewal charge that was declined and is being retried."""

    month: Period  # the credit month whose allotment waits for the payment
    charge: BillingCharge
    failed_at: datetime
    attempts: int  # charge attempts so far; numbers the idempotency keys
    retries_done: int = 0  # scheduled retries already made

    def next_retry_at(self, retry_days: list[int]) -> datetime:
        return self.failed_at + timedelta(days=retry_days[self.retries_done])


class ChargeInFlight(BaseModel):
    """A charge sent to the gateway whose outcome the add-on has not taken in yet.

    Messages are answered while it is outstanding, as if it had been paid: a cancel
    ends with the period it pays for, goodwill lasts until the month it renews ends.
    Its outcome then applies under the lock; a decline undoes what counted on it."""

    month: Period  # the credit month it pays for (a renewal's new one, or the past-due one)
    charge: BillingCharge
    amount_minor: int  # as priced when it started; what the gateway is asked for


@dataclass(frozen=True)
class RetryAttempt:
    """One retry of a declined renewal charge."""

    month: Period
    charge: BillingCharge
    number: int
    at: datetime
    scheduled: bool

"""The contract between a purchase, the API and the account's subscription workflow:
its name and id, its input, its messages, and what its activities exchange."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from contracts.payment_janitor import SettledCharge
from domain.addon import AddonRow, AddonState, AddonTotals, BillingCharge
from domain.calendar import Period
from domain.enums import AddonStatus, BillingCycle, Plan

SUBSCRIPTION_WORKFLOW = "SmsSubscription"
ALLOTMENT_CHANGED_SIGNAL = "allotment_changed"
PLAN_CHANGED_SIGNAL = "plan_changed"
BILLING_CYCLE_CHANGED_SIGNAL = "billing_cycle_changed"
PAYMENT_METHOD_CHANGED_SIGNAL = "payment_method_changed"
RETRY_PAYMENT_SIGNAL = "retry_payment"
CANCEL_UPDATE = "cancel"
RESUME_UPDATE = "resume"
END_LINE_UPDATE = "end_line"
GRANT_GOODWILL_UPDATE = "grant_goodwill"
STATE_QUERY = "state"

REASON_MAX_LENGTH = 200


def subscription_workflow_id(account_id: str) -> str:
    return f"sms-subscription:{account_id}"


class SubscriptionStart(BaseModel):
    """Input of the subscription workflow, started by the add-on purchase that activated it.

    ``carried`` is empty on the first run; a run that continues as new carries its
    whole state in it.
    """

    account_id: str
    purchase_id: str
    carried: AddonState | None = None


# -- messages -------------------------------------------------------------------------


class AllotmentChanged(BaseModel):
    """A credit pack purchase raised the monthly allotment and the recurring charge."""

    account_id: str
    purchase_id: str


class CancelAddon(BaseModel):
    """The customer cancels; it takes effect at the end of the paid period."""

    account_id: str
    requested_by: str


class CancelAccepted(BaseModel):
    status: AddonStatus
    ends_at: datetime


class ResumeAddon(BaseModel):
    """The customer takes a cancel back before it takes effect."""

    account_id: str
    requested_by: str


class ResumeAccepted(BaseModel):
    status: AddonStatus


class LineKind(StrEnum):
    TIER = "tier"
    CREDIT_PACK = "credit_pack"


class AddonLine(BaseModel):
    """One recurring line of the add-on as the billing page lists it; ``line_id`` is
    the purchase that added it."""

    line_id: str
    kind: LineKind
    item_id: str
    credits_per_month: int
    price_minor: int  # per billing period of the add-on's cycle, as bought
    ends_at: datetime | None = None
    starts_at: datetime | None = None  # a downgrade's tier, from the next renewal


class EndLine(BaseModel):
    """The customer ends a credit pack at the next renewal (no refund)."""

    account_id: str
    line_id: Annotated[str, Field(min_length=1, max_length=64)]
    requested_by: str


class PlanChanged(BaseModel):
    """The account moved plan; ``eligible`` says whether the new plan may keep the add-on."""

    account_id: str
    plan: Plan
    eligible: bool


class BillingCycleChanged(BaseModel):
    account_id: str
    billing_cycle: BillingCycle


class PaymentMethodChanged(BaseModel):
    account_id: str
    payment_method: str


class RetryPayment(BaseModel):
    """An operator asks to retry a past-due charge now."""

    account_id: str
    requested_by: str


class GrantGoodwill(BaseModel):
    """Operator goodwill credits, valid until the next renewal; idempotent by ``request_id``."""

    account_id: str
    credits: Annotated[int, Field(gt=0)]
    reason: Annotated[str, Field(min_length=1, max_length=REASON_MAX_LENGTH)]
    request_id: Annotated[str, Field(min_length=1, max_length=64)]


class GoodwillGranted(BaseModel):
    credits: int
    expires_at: datetime
    balance: int


# -- what the activities exchange ------------------------------------------------------


class AddonSnapshot(BaseModel):
    """The account and its add-on as the database holds them (a read-only local activity)."""

    account_id: str
    status: AddonStatus
    currency: str
    anchor: date
    plan_eligible: bool
    account_billing_cycle: BillingCycle
    addon_billing_cycle: BillingCycle
    month: Period
    next_charge_at: datetime | None  # on an active add-on, the end of the paid period
    totals: AddonTotals
    dunning_retry_days: list[int]


class ChargeRequest(BaseModel):
    """One attempt to collect ``charge`` for the credit month starting ``month_start``."""

    account_id: str
    month_start: datetime
    charge: BillingCharge
    attempt: int
    at: datetime
    # As priced when the charge started (``ChargeTerms``); None: the charge prices it
    # (requests scheduled before the price was recorded first).
    amount_minor: int | None = None
    # Sent again under a new key after the provider never saw the earlier one.
    resend: int = 0


class ChargeTerms(BaseModel):
    """What a charge asks for and what its month grants, read once as it starts, so a
    change of the lines while it is outstanding applies from the next renewal."""

    amount_minor: int
    monthly_credits: int


class ChargeOutcome(SettledCharge):
    """A renewal's charge; ``unsent``: sending it again under a new key cannot charge
    twice."""

    # What the charge was in (histories recorded before it was kept: dollars).
    currency: str = "USD"


class Renewal(BaseModel):
    """Expire what is left of the ended month and, unless the charge failed, grant
    ``month``'s allotment; ``row`` is the add-on after the renewal."""

    month: Period
    grant: bool
    at: datetime
    row: AddonRow
    # The allotment the month's charge paid for (``ChargeTerms``); None: the lines in
    # force at ``at`` (a renewal that charged nothing, or recorded before the terms were).
    credits: int | None = None


class RenewalOutcome(BaseModel):
    expired: int
    granted: int
    balance: int
    totals: AddonTotals


class AddonChange(BaseModel):
    """The add-on row as the workflow sees it at ``at`` (a message, or its end)."""

    at: datetime
    row: AddonRow


class LineEnd(BaseModel):
    """End ``line_id`` at ``ends_at`` (the next renewal); written at ``at``."""

    account_id: str
    line_id: str
    ends_at: datetime
    at: datetime


class GoodwillRequest(BaseModel):
    grant: GrantGoodwill
    expires_at: datetime
    at: datetime

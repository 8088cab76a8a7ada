"""The purchase workflow's contract: its id and payment keys, its input, and what its steps
exchange with their activities and the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from domain.enums import PurchaseStatus
from domain.pricing import Quote, QuoteLine, TierChange
from domain.purchase import Failure, PurchaseItem


def purchase_workflow_id(account_id: str, purchase_id: str) -> str:
    return f"sms-purchase:{account_id}:{purchase_id}"


def payment_key(purchase_id: str) -> str:
    """The capture's idempotency key (DESIGN.md §3): one purchase, one charge."""
    return f"purchase:{purchase_id}"


def refund_key(purchase_id: str) -> str:
    return f"refund:purchase:{purchase_id}"


class PurchaseInput(BaseModel):
    purchase_id: str
    account_id: str
    user_id: str
    item: PurchaseItem
    quote_ttl: timedelta
    # When the purchase was recorded (its row); one moment, shown everywhere.
    created_at: datetime | None = None


class CallerCheck(BaseModel):
    """Input of the permission check: a user of an account, read fresh each time."""

    account_id: str
    user_id: str


class Decision(BaseModel):
    """Who confirms or cancels a quote: checked afresh, never trusted from the caller."""

    user_id: str


class EligibilityCheck(BaseModel):
    account_id: str
    item: PurchaseItem
    # The moment the add-on's lines are read at (a tier line may end or start later).
    at: datetime | None = None


class ClaimRequest(BaseModel):
    """Take the right to the item before any money moves (API.md: purchases never race).
    ``record``: the purchase as it stands once claimed, written in the same transaction."""

    account_id: str
    purchase_id: str
    item: PurchaseItem
    # The quote was priced for the credit month ending here; past it, it is stale.
    quote_month_end: datetime
    at: datetime
    # The quoted tier change (None: a new add-on or a pack).
    tier_change: TierChange | None = None
    record: PurchaseView | None = None


class PaymentRef(BaseModel):
    payment_id: str
    amount_minor: int
    currency: str


class PurchaseView(BaseModel):
    """A purchase as API.md shows it."""

    purchase_id: str
    status: PurchaseStatus
    item: PurchaseItem
    quote: Quote | None = None
    payment: PaymentRef | None = None
    failure: Failure | None = None
    created_at: datetime
    completed_at: datetime | None = None


class QuoteRequest(BaseModel):
    """The review in one step: may ``user_id`` buy, may the account have the item, its
    price at ``at``; ``record`` (awaiting confirmation) is written with the quote."""

    caller: CallerCheck
    eligibility: EligibilityCheck
    ttl: timedelta
    record: PurchaseView


class CaptureRequest(BaseModel):
    account_id: str
    purchase_id: str
    amount_minor: int
    currency: str
    at: datetime
    # The quote's lines, which the receipt lists (empty in histories recorded before).
    lines: list[QuoteLine] = []


class CaptureResult(BaseModel):
    payment: PaymentRef
    succeeded: bool
    decline_reason: str | None = None
    # Settled without the card ever being asked (the provider never saw the attempt, or
    # it was abandoned unconfirmed): nothing was charged.
    unsent: bool = False


class GrantRequest(BaseModel):
    account_id: str
    purchase_id: str
    item: PurchaseItem
    currency: str
    at: datetime
    # A tier change applies the quoted change: when, and the credits granted now.
    tier_change: TierChange | None = None
    effective_at: datetime | None = None
    credits_now: int = 0
    # The purchase as it stands once granted (completed), written in the same transaction.
    record: PurchaseView | None = None


class RefundRequest(BaseModel):
    account_id: str
    purchase_id: str
    payment_id: str
    at: datetime


ClaimRequest.model_rebuild()  # ``record`` names PurchaseView, defined after it

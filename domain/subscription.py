"""The contract between a purchase and the account's subscription workflow."""

from __future__ import annotations

from pydantic import BaseModel

SUBSCRIPTION_WORKFLOW = "SmsSubscription"
ALLOTMENT_CHANGED_SIGNAL = "allotment_changed"


def subscription_workflow_id(account_id: str) -> str:
    return f"sms-subscription:{account_id}"


class SubscriptionStart(BaseModel):
    """Input of the subscription workflow, started by the add-on purchase that activated it."""

    account_id: str
    purchase_id: str


class AllotmentChanged(BaseModel):
    """A credit pack purchase raised the monthly allotment and the recurring charge."""

    account_id: str
    purchase_id: str

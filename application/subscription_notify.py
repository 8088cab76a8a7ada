"""Account changes a running subscription must hear about (API.md, Admin): a plan,
billing-cycle or payment-method change is signalled after the change commits.

The account row stays the truth: the subscription re-reads plan and cycle at
every boundary and charges whatever payment method the row holds, so a signal
lost while Temporal is unreachable only delays the change to the next step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from application.clients.subscription import AccountChange, SubscriptionClient
from application.context import Services
from application.errors import ApiError
from application.temporal_calls import WorkflowGone
from contracts.subscription import BillingCycleChanged, PaymentMethodChanged, PlanChanged
from domain.addon import LIVE_STATUSES
from domain.catalogue import Catalogue
from domain.enums import AddonStatus, BillingCycle, Plan
from store.models import Account, AddonSubscription

log = logging.getLogger("sms_addon.api")


@dataclass(frozen=True)
class BillingTerms:
    """The account fields a subscription depends on."""

    plan: Plan
    billing_cycle: BillingCycle
    payment_method: str

    @classmethod
    def of(cls, account: Account) -> BillingTerms:
        return cls(Plan(account.plan), BillingCycle(account.billing_cycle), account.payment_method)


def subscription_messages(
    session: Session, catalogue: Catalogue, before: BillingTerms, account: Account
) -> list[AccountChange]:
    """The signals an account change needs; none unless the add-on is live."""
    addon = session.get(AddonSubscription, account.id)
    if addon is None or AddonStatus(addon.status) not in LIVE_STATUSES:
        return []
    after = BillingTerms.of(account)
    messages: list[AccountChange] = []
    if after.plan is not before.plan:
        eligible = catalogue.plan_eligible(after.plan)
        messages.append(PlanChanged(account_id=account.id, plan=after.plan, eligible=eligible))
    if after.billing_cycle is not before.billing_cycle:
        messages.append(
            BillingCycleChanged(account_id=account.id, billing_cycle=after.billing_cycle)
        )
    if after.payment_method != before.payment_method:
        messages.append(
            PaymentMethodChanged(account_id=account.id, payment_method=after.payment_method)
        )
    return messages


async def notify_subscription(
    services: Services, account_id: str, messages: list[AccountChange]
) -> None:
    """Signal the account's subscription; an ended one (not found) needs nothing, and
    an unreachable Temporal is logged: the change is committed and applies at the
    subscription's next step."""
    client = SubscriptionClient(services, account_id)
    try:
        for message in messages:
            await client.account_changed(message)
    except WorkflowGone:
        return
    except ApiError as exc:
        log.warning("could not signal the subscription of %s: %s", account_id, exc.message)

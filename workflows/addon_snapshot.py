"""The add-on as the database holds it (``AddonSnapshot``, read by a local activity),
taken into the subscription's state: whole when a run starts from a purchase, and its
plan and billing cycle at every renewal."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.subscription import AddonSnapshot, SubscriptionStart
    from domain.addon import AddonState
    from domain.enums import AddonStatus


def activated_state(
    start: SubscriptionStart, snapshot: AddonSnapshot | None, now: datetime
) -> AddonState | None:
    """The add-on the purchase activated (first period paid and granted); None when
    there is no active add-on to keep (e.g. a late pack notification)."""
    if (
        snapshot is None
        or snapshot.status is not AddonStatus.ACTIVE
        or snapshot.next_charge_at is None
    ):
        return None
    state = AddonState(
        account_id=start.account_id,
        purchase_id=start.purchase_id,
        status=snapshot.status,
        anchor=snapshot.anchor,
        currency=snapshot.currency,
        billing_cycle=snapshot.addon_billing_cycle,
        totals=snapshot.totals,
        month=snapshot.month,
        paid_through=snapshot.next_charge_at,
        dunning_retry_days=snapshot.dunning_retry_days,
    )
    apply_account_terms(state, snapshot, now)
    return state


def apply_account_terms(state: AddonState, snapshot: AddonSnapshot, now: datetime) -> None:
    """The account row is the truth for plan and cycle; the messages only bring a
    change forward, so one lost in transit still applies at the next boundary."""
    if not snapshot.plan_eligible:
        state.schedule_end(now)
    state.change_billing_cycle(snapshot.account_billing_cycle)
    state.totals = snapshot.totals

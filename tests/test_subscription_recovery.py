"""Durability: a worker that dies in the middle of a renewal, and a run that continues
as new in the middle of dunning."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus

import worker
from activities.deps import ActivityDeps
from activities.subscription import SubscriptionActivities
from contracts.subscription import (
    PAYMENT_METHOD_CHANGED_SIGNAL,
    PaymentMethodChanged,
    Renewal,
    RenewalOutcome,
)
from domain.enums import AddonStatus, GrantSource, PaymentStatus
from payments.sandbox import DECLINING_METHOD, FLAKY_METHOD
from tests.subscription_support import SETTLE, TIER, subscribed, task_queue
from tests.support import activity_deps, keep_history

# How long the test waits, in real time, for the dying worker to reach its fault.
FAULT_WAIT_SECONDS = 30


class DyingRenewal(SubscriptionActivities):
    """The real renewal, whose first attempt dies after its transaction commits: the
    server hears only a failure and retries it, as it would for a killed worker."""

    def __init__(self, deps: ActivityDeps) -> None:
        super().__init__(deps)
        self.died = 0

    @activity.defn(name="renew_addon_credits")
    def renew_addon_credits(self, renewal: Renewal) -> RenewalOutcome:
        outcome = super().renew_addon_credits(renewal)
        if activity.info().attempt > 1:
            return outcome
        self.died += 1
        raise RuntimeError("the worker process died before reporting the renewal")


async def test_worker_killed_mid_renewal_charges_and_grants_once(
    time_skipping_env, sqlite_sessions
):
    # A real SIGKILL mid-step is proven for purchases (test_purchase_faults.py, on the dev
    # server); on the time-skipping server a dead worker's pending task stalls the clock,
    # so here the renewal's first attempt dies after its commit instead.
    client, queue = time_skipping_env.client, task_queue()
    deps = activity_deps(client, sqlite_sessions)
    dying = DyingRenewal(deps)
    replaying_worker = worker.build_worker(
        client,
        deps,
        queue,
        stand_ins=[dying.renew_addon_credits],
        # No cache: every workflow task replays the history, as a fresh worker would.
        max_cached_workflows=0,
    )
    # pm_card_flaky: the gateway records the charge and loses the first answer as well.
    async with (
        subscribed(
            time_skipping_env,
            sqlite_sessions,
            "crash",
            queue=queue,
            with_worker=False,
            payment_method=FLAKY_METHOD,
        ) as sub,
        replaying_worker,
    ):
        await sub.after_boundary(1)
        assert dying.died == 1
        (charge,) = sub.charges()
        assert (charge.status, charge.at) == (PaymentStatus.SUCCEEDED, sub.boundary(1))
        renewals = [g for g in sub.grants() if g.source == GrantSource.RENEWAL]
        assert [g.granted_at for g in renewals] == [sub.boundary(1)]
        assert sub.balance() == TIER.credits_per_month
        assert sub.expired_at(sub.boundary(1)) == TIER.credits_per_month

        await sub.after_boundary(2)  # and the subscription carries on
        assert len(sub.charges()) == 2
        assert sub.balance() == TIER.credits_per_month
        await keep_history(sub.handle, "subscription/local-renewal/worker_crash")


async def test_continue_as_new_in_dunning_keeps_every_field(time_skipping_env, sqlite_sessions):
    async with subscribed(time_skipping_env, sqlite_sessions, "carry") as sub:
        await sub.after_boundary(11)
        before = await sub.state()
        assert before.renewals_this_run == 11
        sub.set_account(payment_method=DECLINING_METHOD)

        await sub.after_boundary(12)  # the 12th renewal is declined, then the run continues
        assert (await sub.first_run().describe()).status == (
            WorkflowExecutionStatus.CONTINUED_AS_NEW
        )
        carried = await sub.state()
        assert carried.dunning is not None
        assert (carried.dunning.failed_at, carried.dunning.attempts) == (sub.boundary(12), 1)
        assert carried == before.model_copy(
            update={
                "status": AddonStatus.PAST_DUE,
                "month": sub.month(12),
                "dunning": carried.dunning,
                "renewals_this_run": 0,
            }
        )
        assert sub.balance() == 0

        sub.set_account(payment_method="pm_card_visa")
        change = PaymentMethodChanged(account_id=sub.account_id, payment_method="pm_card_visa")
        await sub.latest_handle().signal(PAYMENT_METHOD_CHANGED_SIGNAL, change)
        await time_skipping_env.sleep(SETTLE)
        recovered = await sub.state()
        assert (recovered.status, recovered.dunning) == (AddonStatus.ACTIVE, None)
        assert recovered.paid_through == sub.boundary(13)
        assert sub.balance() == TIER.credits_per_month
        assert [c.status for c in sub.charges()][-2:] == [
            PaymentStatus.DECLINED,
            PaymentStatus.SUCCEEDED,
        ]
        await keep_history(sub.first_run(), "subscription/continued_as_new_first_run")
        await keep_history(sub.latest_handle(), "subscription/continued_as_new_in_dunning")

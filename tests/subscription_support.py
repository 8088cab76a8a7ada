"""Plumbing for the subscription tests: an account with an activated add-on (what a
completed add-on purchase leaves behind), its running workflow, and DB readers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.subscription import (
    STATE_QUERY,
    SUBSCRIPTION_WORKFLOW,
    SubscriptionStart,
    subscription_workflow_id,
)
from domain.addon import AddonState
from domain.calendar import Period, boundary, credit_month
from domain.catalogue import RecurringItem
from domain.enums import AddonStatus, BillingCycle, Currency, EntryKind, PaymentKind, Plan
from store.db import transaction
from store.ledger_models import CreditEntry, CreditGrant
from store.models import Account, AddonSubscription, Payment
from store.subscriptions import activate_addon, add_credit_pack
from tests.support import catalogue, create_account, running_worker, send_credits

TIER = catalogue().addon_tiers[1].priced(Currency.USD)  # sms-1000: 1,000 credits, $18.00/month
PACK = catalogue().credit_packs[0].priced(Currency.USD)
# Checks happen a little after a boundary, once its renewal has run.
SETTLE = timedelta(hours=1)


def task_queue() -> str:
    return f"subscription-{uuid.uuid4().hex[:8]}"


def new_account_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@dataclass
class Subscription:
    """One account whose add-on was just activated, and its subscription workflow."""

    env: WorkflowEnvironment
    sessions: sessionmaker[Session]
    account_id: str
    anchor: date
    activated_at: datetime
    handle: WorkflowHandle[object, AddonStatus]
    started: list[str] = field(default_factory=list)

    def boundary(self, months: int) -> datetime:
        """The ``months``-th monthly boundary after activation (0 = the current month's start)."""
        first = credit_month(self.anchor, self.activated_at).start
        return boundary(self.anchor, first.year, first.month + months)

    def month(self, months: int) -> Period:
        return Period(start=self.boundary(months), end=self.boundary(months + 1))

    async def advance_to(self, moment: datetime) -> None:
        await advance_to(self.env, moment)

    async def after_boundary(self, months: int) -> None:
        await self.advance_to(self.boundary(months) + SETTLE)

    async def state(self) -> AddonState:
        handle = self.env.client.get_workflow_handle(subscription_workflow_id(self.account_id))
        state: AddonState = await handle.query(STATE_QUERY, result_type=AddonState)
        return state

    def first_run(self) -> WorkflowHandle[object, AddonStatus]:
        return self.env.client.get_workflow_handle(
            self.handle.id, run_id=self.handle.first_execution_run_id, result_type=AddonStatus
        )

    def latest_handle(self) -> WorkflowHandle[object, AddonStatus]:
        return self.env.client.get_workflow_handle(
            subscription_workflow_id(self.account_id), result_type=AddonStatus
        )

    # -- the database -----------------------------------------------------------------

    def balance(self) -> int:
        with self.sessions() as session:
            account = session.get(Account, self.account_id)
            assert account is not None
            return account.credit_balance

    def addon(self) -> AddonSubscription:
        with self.sessions() as session:
            addon = session.get(AddonSubscription, self.account_id)
            assert addon is not None
            return addon

    def charges(self) -> list[Payment]:
        return captures(self.sessions, self.account_id)

    def entries(self, kind: EntryKind) -> list[CreditEntry]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(CreditEntry)
                    .where(
                        CreditEntry.account_id == self.account_id,
                        CreditEntry.kind == kind.value,
                    )
                    .order_by(CreditEntry.id)
                )
            )

    def grants(self) -> list[CreditGrant]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(CreditGrant)
                    .where(CreditGrant.account_id == self.account_id)
                    .order_by(CreditGrant.id)
                )
            )

    def expired_at(self, moment: datetime) -> int:
        return -sum(e.credits for e in self.entries(EntryKind.EXPIRE) if e.at == moment)

    def spend(self, credits: int, at: datetime) -> None:
        send_credits(self.sessions, self.account_id, credits, at)

    def set_account(self, **changes: object) -> None:
        with transaction(self.sessions) as session:
            account = session.get(Account, self.account_id)
            assert account is not None
            for name, value in changes.items():
                setattr(account, name, value)

    def add_pack(self, pack: RecurringItem, at: datetime) -> str:
        return add_pack(self.sessions, self.account_id, pack, at)


def add_pack(
    sessions: sessionmaker[Session], account_id: str, pack: RecurringItem, at: datetime
) -> str:
    """What a completed pack purchase writes; returns its purchase id (its line's id)."""
    purchase_id = f"pur-{uuid.uuid4().hex[:10]}"
    with transaction(sessions) as session:
        add_credit_pack(session, account_id=account_id, purchase_id=purchase_id, pack=pack, at=at)
    return purchase_id


def captures(sessions: sessionmaker[Session], account_id: str) -> list[Payment]:
    """Every capture of the account, in business-time order, whatever its status."""
    with sessions() as session:
        return list(
            session.scalars(
                select(Payment)
                .where(Payment.account_id == account_id, Payment.kind == PaymentKind.CAPTURE.value)
                .order_by(Payment.at, Payment.created_at)
            )
        )


async def advance_to(env: WorkflowEnvironment, moment: datetime) -> None:
    now = await env.get_current_time()
    assert moment >= now, f"cannot go back from {now} to {moment}"
    await env.sleep(moment - now)


def activate(
    sessions: sessionmaker[Session],
    account_id: str,
    *,
    anchor: date,
    at: datetime,
    cycle: BillingCycle = BillingCycle.MONTHLY,
    payment_method: str = "pm_card_visa",
    plan: Plan = Plan.PLUS,
) -> str:
    """The account and what the add-on purchase commits: the row, the line, the grant."""
    create_account(
        sessions,
        account_id,
        plan=plan,
        cycle=cycle,
        anchor=anchor,
        payment_method=payment_method,
        now=at,
    )
    purchase_id = f"pur-{uuid.uuid4().hex[:10]}"
    with transaction(sessions) as session:
        activate_addon(
            session,
            account_id=account_id,
            purchase_id=purchase_id,
            tier=TIER,
            currency=Currency.USD,
            at=at,
        )
    return purchase_id


@contextlib.asynccontextmanager
async def subscribed(
    env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    prefix: str,
    *,
    anchor: date | None = None,
    queue: str | None = None,
    with_worker: bool = True,
    cycle: BillingCycle = BillingCycle.MONTHLY,
    payment_method: str = "pm_card_visa",
) -> AsyncIterator[Subscription]:
    """An activated add-on (anchored today unless told) and its running subscription;
    whatever is still running at the end is terminated so it cannot hold the shared
    time-skipping clock."""
    queue = queue or task_queue()
    now = await env.get_current_time()
    account_id = new_account_id(prefix)
    anchor = anchor or now.date()
    purchase_id = activate(
        sessions, account_id, anchor=anchor, at=now, cycle=cycle, payment_method=payment_method
    )
    handle = await env.client.start_workflow(
        SUBSCRIPTION_WORKFLOW,
        SubscriptionStart(account_id=account_id, purchase_id=purchase_id),
        id=subscription_workflow_id(account_id),
        task_queue=queue,
        result_type=AddonStatus,
    )
    subscription = Subscription(env, sessions, account_id, anchor, now, handle)
    try:
        if with_worker:
            async with running_worker(env.client, sessions, queue):
                yield subscription
        else:
            yield subscription
    finally:
        with contextlib.suppress(RPCError):
            await subscription.latest_handle().terminate("test finished")


# Real-time tests: an add-on activated this long ago has a renewal due when its
# subscription starts.
OVERDUE = timedelta(days=40)


def renewal_due(sessions: sessionmaker[Session], prefix: str) -> tuple[str, Period]:
    """An add-on activated ``OVERDUE`` ago (real time): its account and the credit month
    its subscription renews into as soon as it starts."""
    started = datetime.now(UTC) - OVERDUE
    account_id = new_account_id(prefix)
    activate(sessions, account_id, anchor=started.date(), at=started)
    due = credit_month(started.date(), started).end
    return account_id, credit_month(started.date(), due)


async def start_subscription(
    client: Client, account_id: str, queue: str
) -> WorkflowHandle[object, AddonStatus]:
    return await client.start_workflow(
        SUBSCRIPTION_WORKFLOW,
        SubscriptionStart(account_id=account_id, purchase_id="activated"),
        id=subscription_workflow_id(account_id),
        task_queue=queue,
        result_type=AddonStatus,
    )


async def state_of(handle: WorkflowHandle[object, AddonStatus]) -> AddonState:
    state: AddonState = await handle.query(STATE_QUERY, result_type=AddonState)
    return state


def renewal_soon(
    sessions: sessionmaker[Session], prefix: str, seconds: float
) -> tuple[str, Period]:
    """An add-on whose credit month ends ``seconds`` from now (real time, its row moved
    there): its account and the credit month it renews into then."""
    account_id, _ = renewal_due(sessions, prefix)
    boundary = datetime.now(UTC) + timedelta(seconds=seconds)
    with transaction(sessions) as session:
        addon = session.get(AddonSubscription, account_id)
        account = session.get(Account, account_id)
        assert addon is not None and account is not None
        addon.period_end = addon.next_charge_at = boundary
        anchor = account.billing_anchor
    return account_id, credit_month(anchor, boundary)


async def loaded(handle: WorkflowHandle[object, AddonStatus], within: float = 60) -> AddonState:
    """The subscription's state once it has read its add-on (real time)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        with contextlib.suppress(WorkflowQueryFailedError):
            return await state_of(handle)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{handle.id} never loaded its add-on")
        await asyncio.sleep(0.2)


def renewal_granted(
    sessions: sessionmaker[Session], account_id: str, month_start: datetime
) -> bool:
    key = f"renewal:{account_id}:{month_start:%Y-%m-%d}"
    with sessions() as session:
        return session.query(CreditGrant).filter_by(idempotency_key=key).count() > 0


async def renewed(
    sessions: sessionmaker[Session], account_id: str, month_start: datetime, within: float = 60
) -> None:
    """Wait (real time) until the renewal of ``month_start`` has granted its credits."""
    deadline = asyncio.get_running_loop().time() + within
    while not renewal_granted(sessions, account_id, month_start):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the renewal of {month_start:%Y-%m-%d} never granted")
        await asyncio.sleep(0.2)

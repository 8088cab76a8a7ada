"""A shop for purchase tests: an account with three kinds of user, the real worker
and the real API on the time-skipping server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.purchase import purchase_workflow_id
from domain.enums import BillingCycle, Plan, Role
from domain.purchase import PurchaseItem
from store.ledger_models import CreditEntry
from store.models import Account, Payment, Purchase
from tests.support import (
    api_client,
    bearer,
    create_account,
    create_user,
    running_worker,
    settings_for,
)


@dataclass
class Shop:
    api: httpx.AsyncClient
    env: WorkflowEnvironment
    sessions: sessionmaker[Session]
    account_id: str
    admin: dict[str, str]  # primary admin
    biller: dict[str, str]  # plain role with the billing permission
    plain: dict[str, str]  # no permission
    now: datetime
    task_queue: str

    async def buy(
        self, item: dict[str, str], who: dict[str, str] | None = None, key: str | None = None
    ) -> httpx.Response:
        """Add to plan: the Review purchase step (``key`` is the Idempotency-Key)."""
        idempotency = {"Idempotency-Key": key} if key is not None else {}
        return await self.api.post(
            f"/v1/accounts/{self.account_id}/sms/purchases",
            json={"item": item},
            headers={**(who or self.admin), **idempotency},
        )

    async def confirm(
        self, purchase_id: str, who: dict[str, str] | None = None, key: str | None = None
    ) -> httpx.Response:
        return await self.decide(purchase_id, "confirm", who, key)

    async def cancel(
        self, purchase_id: str, who: dict[str, str] | None = None, key: str | None = None
    ) -> httpx.Response:
        return await self.decide(purchase_id, "cancel", who, key)

    async def decide(
        self, purchase_id: str, decision: str, who: dict[str, str] | None, key: str | None
    ) -> httpx.Response:
        """Confirm or cancel (``key`` is the Idempotency-Key)."""
        idempotency = {"Idempotency-Key": key} if key is not None else {}
        return await self.api.post(
            f"/v1/accounts/{self.account_id}/sms/purchases/{purchase_id}/{decision}",
            headers={**(who or self.admin), **idempotency},
        )

    async def get(self, path: str = "") -> Any:
        response = await self.api.get(
            f"/v1/accounts/{self.account_id}/sms{path}", headers=self.admin
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def bought(self, item: dict[str, str]) -> dict[str, Any]:
        """Buy and confirm; the completed purchase."""
        quote = await self.buy(item)
        assert quote.status_code == 201, quote.text
        done = await self.confirm(quote.json()["purchase_id"])
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "completed"
        return dict(done.json())

    def handle(self, purchase_id: str) -> Any:
        return self.env.client.get_workflow_handle(
            purchase_workflow_id(self.account_id, purchase_id)
        )

    def counts(self) -> tuple[int, int]:
        """(successful captures, grant entries) of the account."""
        with self.sessions() as session:
            captures = session.scalar(
                select(func.count())
                .select_from(Payment)
                .where(
                    Payment.account_id == self.account_id,
                    Payment.kind == "capture",
                    Payment.status == "succeeded",
                )
            )
            grants = session.scalar(
                select(func.count())
                .select_from(CreditEntry)
                .where(CreditEntry.account_id == self.account_id, CreditEntry.kind == "grant")
            )
        return int(captures or 0), int(grants or 0)

    def balance(self) -> int:
        with self.sessions() as session:
            account = session.get(Account, self.account_id)
            assert account is not None
            return account.credit_balance


@asynccontextmanager
async def open_shop(
    env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    database_url: str,
    *,
    plan: Plan = Plan.PLUS,
    cycle: BillingCycle = BillingCycle.MONTHLY,
    anchor: date | None = None,
    payment_method: str = "pm_card_visa",
    worker: bool = True,
    **settings: Any,
) -> AsyncIterator[Shop]:
    now = await env.get_current_time()
    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    create_account(
        sessions,
        account_id,
        plan=plan,
        cycle=cycle,
        anchor=anchor or now.date(),
        payment_method=payment_method,
        now=now,
    )
    admin = create_user(sessions, account_id, "ana", role=Role.PRIMARY_ADMIN, now=now)
    biller = create_user(
        sessions, account_id, "bill", role=Role.USER, billing_permission=True, now=now
    )
    plain = create_user(sessions, account_id, "pat", role=Role.USER, now=now)
    config = settings_for(database_url, **settings)
    async with api_client(config, env.client) as api:
        shop = Shop(
            api=api,
            env=env,
            sessions=sessions,
            account_id=account_id,
            admin=bearer(admin),
            biller=bearer(biller),
            plain=bearer(plain),
            now=now,
            task_queue=config.sms_task_queue,
        )
        if worker:
            async with running_worker(env.client, sessions, config.sms_task_queue):
                yield shop
        else:
            yield shop


def purchase_row(
    purchase_id: str, account_id: str, item: PurchaseItem, status: str, now: datetime
) -> Purchase:
    """A purchase of ``item`` by the user ``ana``, as the API records it."""
    return Purchase(
        purchase_id=purchase_id,
        account_id=account_id,
        user_id="ana",
        item_type=item.type.value,
        item_id=item.item_id,
        status=status,
        created_at=now,
        updated_at=now,
    )

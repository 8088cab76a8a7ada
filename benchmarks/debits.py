"""Debits through the HTTP API (single sends and batches), and the ledger check
that follows every run: no lost update, no negative balance."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine, func, or_, select

from benchmarks.load import Measured, closed_loop, lean_client
from store.ledger_models import CreditEntry, CreditGrant
from store.models import Account

CLIENTS = 16
ACCOUNTS = 20
SEND = {"country": "BR", "recipients": 1, "text": "Flash sale!"}  # 4 credits
SEND_CREDITS = 4
SEND_BODY = json.dumps(SEND).encode()  # encoded once: the load generator's CPU is scarce
BATCH_SIZE = 1000


async def http_debits(
    api_url: str, tokens: dict[str, str], requests: int, clients: int = CLIENTS
) -> Measured:
    """``requests`` single sends from ``clients`` clients, round-robin over the accounts."""
    accounts = list(tokens)
    run = uuid.uuid4().hex[:8]
    async with lean_client(api_url, clients) as api:

        async def send(n: int) -> bool:
            account_id = accounts[n % len(accounts)]
            async with api.post(
                f"/v1/accounts/{account_id}/sms/usage",
                data=SEND_BODY,
                headers={
                    "Authorization": f"Bearer {tokens[account_id]}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": f"{run}-{n}",
                },
            ) as response:
                await response.read()
                return response.status == 200

        return await closed_loop(clients, requests, send)


async def http_batches(api_url: str, tokens: dict[str, str], batches: int) -> Measured:
    """``batches`` calls of 1,000 messages each, 4 clients; latencies are per call."""
    accounts = list(tokens)
    run = uuid.uuid4().hex[:8]
    counter = itertools.count()
    async with lean_client(api_url, 4) as api:

        async def send(n: int) -> bool:
            account_id = accounts[n % len(accounts)]
            messages = [
                {**SEND, "idempotency_key": f"{run}-{next(counter)}"} for _ in range(BATCH_SIZE)
            ]
            async with api.post(
                f"/v1/accounts/{account_id}/sms/usage/batch",
                json={"messages": messages},
                headers={"Authorization": f"Bearer {tokens[account_id]}"},
            ) as response:
                if response.status != 200:
                    return False
                results = (await response.json())["results"]
                return all(r["code"] is None for r in results)

        return await closed_loop(4, batches, send)


def ledger_problems(engine: Engine, account_ids: list[str]) -> list[str]:
    """For each account: cached balance == ledger sum == unexpired grants, none negative."""
    now = datetime.now(UTC)
    problems: list[str] = []
    with engine.connect() as connection:
        for account_id in account_ids:
            balance = connection.scalar(
                select(Account.credit_balance).where(Account.id == account_id)
            )
            ledger = connection.scalar(
                select(func.coalesce(func.sum(CreditEntry.credits), 0)).where(
                    CreditEntry.account_id == account_id
                )
            )
            held = connection.scalar(
                select(func.coalesce(func.sum(CreditGrant.remaining), 0)).where(
                    CreditGrant.account_id == account_id,
                    or_(CreditGrant.expires_at.is_(None), CreditGrant.expires_at > now),
                )
            )
            if not (balance == ledger == held) or (balance or 0) < 0:
                problems.append(f"{account_id}: balance {balance}, ledger {ledger}, held {held}")
    return problems

"""No lost updates: 50 parallel debits against a balance that covers 20, on every
configured database (SQLite always; PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from store.debits import Message, Outcome, spend
from store.ledger_models import CreditEntry, CreditGrant
from store.models import Account
from tests.support import api_client, bearer, settings_for
from tests.test_usage import account_with_user, grant

PARALLEL = 50
AFFORDABLE = 20
SEND = {"country": "BR", "recipients": 1, "text": "Flash sale!"}  # 4 credits
SEND_CREDITS = 4


def assert_ledger_consistent(sessions: sessionmaker[Session], account_id: str) -> None:
    """Balance 0, and cached balance == ledger sum == what unexpired grants hold."""
    now = datetime.now(UTC)
    with sessions() as session:
        account = session.get(Account, account_id)
        assert account is not None
        ledger = session.scalar(
            select(func.sum(CreditEntry.credits)).where(CreditEntry.account_id == account_id)
        )
        held = session.scalar(
            select(func.coalesce(func.sum(CreditGrant.remaining), 0)).where(
                CreditGrant.account_id == account_id,
                or_(CreditGrant.expires_at.is_(None), CreditGrant.expires_at > now),
            )
        )
        afters = session.scalars(
            select(CreditEntry.balance_after).where(CreditEntry.account_id == account_id)
        ).all()
    assert account.credit_balance == ledger == held == 0
    # Every entry saw the one before it: the balances-after are all distinct.
    assert len(set(afters)) == len(afters) == AFFORDABLE + 1


async def test_parallel_sends_through_the_api_never_overspend(sessions, database_url):
    token = account_with_user(sessions)
    grant(sessions, "acme", AFFORDABLE * SEND_CREDITS)
    async with api_client(settings_for(database_url), None) as api:
        # Sync endpoints run on the server's thread pool: each send is its own
        # session and transaction, racing the others for the account row.
        responses = await asyncio.gather(
            *(
                api.post("/v1/accounts/acme/sms/usage", json=SEND, headers=bearer(token))
                for _ in range(PARALLEL)
            )
        )
    codes = [r.status_code for r in responses]
    assert codes.count(200) == AFFORDABLE, codes
    assert codes.count(409) == PARALLEL - AFFORDABLE
    refusals = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
    assert refusals == {"insufficient_credits"}
    assert_ledger_consistent(sessions, "acme")


def test_parallel_store_debits_never_overspend(engine, sessions):
    """The debit itself, each in its own transaction on its own thread."""
    account_with_user(sessions)
    grant(sessions, "acme", AFFORDABLE * SEND_CREDITS)
    start = threading.Barrier(PARALLEL)

    def debit(n: int) -> Outcome:
        start.wait()
        message = Message(f"usage:acme:parallel-{n}", SEND_CREDITS, False, "parallel")
        spent, _ = spend(engine, message, datetime.now(UTC))
        return spent.outcome

    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(debit, range(PARALLEL)))
    assert outcomes.count(Outcome.DEBITED) == AFFORDABLE
    assert outcomes.count(Outcome.INSUFFICIENT_CREDITS) == PARALLEL - AFFORDABLE
    assert_ledger_consistent(sessions, "acme")

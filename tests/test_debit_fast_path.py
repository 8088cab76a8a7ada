"""The guarantees the fast debit path relies on, under threads, on SQLite and PostgreSQL:
no lost update, never below zero, exactly once per key (single sends, batches, and
units sharing a group commit)."""

from __future__ import annotations

import asyncio
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, or_, select

from application.db_writer import DbWriter
from store.db import transaction, write_transaction
from store.debits import Message, Outcome, send_on, spend, spend_batch_on, spend_on
from store.event_models import AlertSettings, AutoTopUp
from store.events import FollowUp
from store.group_commit import GroupCommitter
from store.idempotency import FirstRequest
from store.ledger_models import CreditEntry, CreditGrant
from store.loop_commit import LoopGroupCommitter
from store.models import Account
from tests.test_usage import account_with_user, grant

THREADS = 16


def send(key: str, credits: int = 4) -> Message:
    return Message(f"usage:acme:{key}", credits, False, "test")


def ledger(sessions) -> tuple[int, int, int, Counter[str]]:
    """Cached balance, ledger sum, unexpired grants, and debits per key."""
    now = datetime.now(UTC)
    with sessions() as session:
        balance = session.get(Account, "acme").credit_balance
        total = session.scalar(select(func.sum(CreditEntry.credits)))
        held = session.scalar(
            select(func.sum(CreditGrant.remaining)).where(
                or_(CreditGrant.expires_at.is_(None), CreditGrant.expires_at > now)
            )
        )
        keys = session.scalars(
            select(CreditEntry.idempotency_key).where(CreditEntry.kind == "debit")
        ).all()
    return balance, total, held, Counter(keys)


def test_parallel_sends_with_repeated_keys_debit_each_key_once(engine, sessions):
    account_with_user(sessions)
    grant(sessions, "acme", 4 * 30)  # 30 sends' worth, 40 distinct keys asked for
    keys = [f"k{n % 40}" for n in range(160)]  # every key sent by four threads

    def one(key: str) -> Outcome:
        return spend(engine, send(key), datetime.now(UTC))[0].outcome

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(pool.map(one, keys))
    balance, total, held, debits = ledger(sessions)
    assert balance == total == held == 0
    assert len(debits) == 30 and set(debits.values()) == {1}
    assert outcomes[Outcome.DEBITED] == 30
    assert outcomes[Outcome.DEBITED] + outcomes[Outcome.REPLAYED] + outcomes[
        Outcome.INSUFFICIENT_CREDITS
    ] == len(keys)


def test_parallel_overlapping_batches_debit_each_key_once(engine, sessions):
    account_with_user(sessions)
    grant(sessions, "acme", 4 * 100)
    # Eight batches of 50 over the same 100 keys, in different orders.
    batches = [[send(f"b{(n * 13 + i) % 100}") for i in range(50)] for n in range(8)]

    def one(messages: list[Message]) -> list[Outcome]:
        with write_transaction(engine) as connection:
            done = spend_batch_on(connection, "acme", messages, datetime.now(UTC))
        assert done.balance >= 0
        return [r.outcome for r in done.results]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, batches))
    assert all(o in {Outcome.DEBITED, Outcome.REPLAYED} for r in results for o in r)
    balance, total, held, debits = ledger(sessions)
    covered = {m.key for b in batches for m in b}
    assert set(debits) == covered and set(debits.values()) == {1}
    assert balance == total == held == 4 * (100 - len(covered))


def test_group_commit_isolates_a_failing_unit_and_debits_each_key_once(engine, sessions):
    account_with_user(sessions)
    grant(sessions, "acme", 4 * 50)
    committer = GroupCommitter(engine)
    at = datetime.now(UTC)

    def broken(connection):
        spend_on(connection, send("doomed"), at)
        raise RuntimeError("after writing")  # its savepoint must take the debit back

    def unit(key: str):
        return lambda connection: spend_on(connection, send(key), at)

    try:
        # Submitted mid-stream, the failing unit shares a group with others.
        futures = [committer.submit(unit(f"g{n % 60}")) for n in range(60)]
        doomed = committer.submit(broken)
        futures += [committer.submit(unit(f"g{n % 60}")) for n in range(60, 120)]
        outcomes = Counter(f.result()[0].outcome for f in futures)
        with pytest.raises(RuntimeError):
            doomed.result()
    finally:
        committer.close()
    balance, total, held, debits = ledger(sessions)
    assert "usage:acme:doomed" not in debits
    assert outcomes[Outcome.DEBITED] == 50 and set(debits.values()) == {1}
    assert balance == total == held == 0


def first_request(key: str, text: str) -> FirstRequest:
    body = {"country": "BR", "recipients": 1, "text": text}
    return FirstRequest("acme", key, "POST", "/v1/accounts/acme/sms/usage", body, datetime.now(UTC))


def test_a_keys_fingerprint_is_checked_in_the_debits_own_transaction(engine, sessions):
    """The Idempotency-Key fingerprint is written with the debit, under the account's
    lock: sixteen threads racing the same key with two different bodies debit it once,
    and every request with the other body is refused, never debited."""
    account_with_user(sessions)
    grant(sessions, "acme", 4 * 100)
    texts = ["first" if n % 2 else "other" for n in range(32)]

    def one(text: str) -> Outcome:
        with write_transaction(engine) as connection:
            at = datetime.now(UTC)
            return spend_on(connection, send("same"), at, None, first_request("same", text))[
                0
            ].outcome

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(one, texts))
    winner = texts[outcomes.index(Outcome.DEBITED)]
    assert outcomes.count(Outcome.DEBITED) == 1
    for text, outcome in zip(texts, outcomes, strict=True):
        if outcome is not Outcome.DEBITED:
            assert outcome is (Outcome.REPLAYED if text == winner else Outcome.KEY_REUSED)
    balance, total, held, debits = ledger(sessions)
    assert debits == Counter({"usage:acme:same": 1}) and balance == total == held == 396


def test_a_debit_rolled_back_takes_its_fingerprint_with_it(engine, sessions):
    account_with_user(sessions)
    grant(sessions, "acme", 40)
    with pytest.raises(RuntimeError), write_transaction(engine) as connection:
        spend_on(connection, send("k"), datetime.now(UTC), None, first_request("k", "a"))
        raise RuntimeError("the commit never happens")
    with write_transaction(engine) as connection:  # the key is new again, for any body
        spent, _ = spend_on(connection, send("k"), datetime.now(UTC), None, first_request("k", "b"))
    assert spent.outcome is Outcome.DEBITED


async def test_several_writers_keep_each_accounts_debits_exactly_once(engine, sessions):
    """DbWriter with several committers (PostgreSQL): every account's work goes to one
    of them, so repeated keys over several accounts still debit once each and no
    update is lost."""
    accounts = ["acme", "globex", "initech"]
    for account_id in accounts:
        account_with_user(sessions, account_id)
        grant(sessions, account_id, 4 * 30)
    writer = DbWriter(engine, writers=4)
    at = datetime.now(UTC)

    async def one(n: int) -> Outcome:
        account_id = accounts[n % 3]
        message = Message(f"usage:{account_id}:k{n % 120}", 4, False, "test")
        spent, _ = await writer.run(account_id, lambda db: spend_on(db, message, at))
        return spent.outcome

    try:
        outcomes = Counter(await asyncio.gather(*(one(n) for n in range(480))))
    finally:
        writer.close()
    assert outcomes[Outcome.DEBITED] == 90  # 40 keys each, credits for 30
    with sessions() as session:
        for account_id in accounts:
            balance = session.get(Account, account_id).credit_balance
            debited = session.scalars(
                select(CreditEntry.idempotency_key).where(
                    CreditEntry.account_id == account_id, CreditEntry.kind == "debit"
                )
            ).all()
            assert balance == 0 and len(debited) == len(set(debited)) == 30


async def test_loop_group_commit_isolates_a_failing_unit_and_debits_each_key_once(engine, sessions):
    """SQLite's group commit on the event loop: the same guarantees as the threaded one
    (a failing unit rolled back alone, each key once, nothing lost), and a caller that
    stops waiting neither loses its debit's commit nor stops the committer."""
    account_with_user(sessions)
    grant(sessions, "acme", 4 * 62)  # 60 keys, "gone" and "after"
    committer = LoopGroupCommitter(engine)
    at = datetime.now(UTC)

    def broken(connection):
        spend_on(connection, send("doomed"), at)
        raise RuntimeError("after writing")

    def unit(key: str):
        return lambda connection: spend_on(connection, send(key), at)

    try:
        first = [asyncio.ensure_future(committer.run(unit(f"g{n % 60}"))) for n in range(60)]
        doomed = asyncio.ensure_future(committer.run(broken))
        gone = asyncio.ensure_future(committer.run(unit("gone")))
        later = [asyncio.ensure_future(committer.run(unit(f"g{n % 60}"))) for n in range(60, 119)]
        await asyncio.sleep(0)
        gone.cancel()  # its client went away while it waited for its group
        # Generous: a committer ended by the cancelled caller would leave them unanswered.
        results = await asyncio.wait_for(asyncio.gather(*first, *later), 30)
        with pytest.raises(RuntimeError):
            await doomed
        after = await committer.run(unit("after"))  # the committer still runs
    finally:
        committer.close()
    outcomes = Counter(spent.outcome for spent, _ in results)
    balance, total, held, debits = ledger(sessions)
    assert after[0].outcome is Outcome.DEBITED
    assert "usage:acme:doomed" not in debits and set(debits.values()) == {1}
    assert debits["usage:acme:gone"] == 1  # committed though nobody heard it
    assert outcomes == Counter({Outcome.DEBITED: 60, Outcome.REPLAYED: 59})
    assert balance == total == held == 0


async def test_a_rerun_group_starts_only_the_committed_runs_top_up(engine, sessions):
    """A failing unit makes its group run again; a send in it that claimed an auto
    top-up answers only the claim that committed, never the rolled-back one's."""
    account_with_user(sessions)
    grant(sessions, "acme", 40)
    with transaction(sessions) as session:
        session.add(
            AlertSettings(
                account_id="acme",
                top_up_pack="pack-500",
                top_up_credits=500,
                top_up_price_minor=500,
                top_up_currency="USD",
                top_up_below=38,
                top_up_max_per_month=3,
                updated_at=datetime.now(UTC),
            )
        )
    committer = LoopGroupCommitter(engine)
    at = datetime.now(UTC)

    def broken(connection):
        raise RuntimeError("fails its group's first run")

    try:
        sent = asyncio.ensure_future(committer.run(lambda db: send_on(db, send("k"), at)))
        doomed = asyncio.ensure_future(committer.run(broken))
        result = await asyncio.wait_for(sent, 30)
        with pytest.raises(RuntimeError):
            await doomed
    finally:
        committer.close()
    with sessions() as session:
        claimed = session.scalars(select(AutoTopUp.top_up_id)).all()
    assert result.spent.outcome is Outcome.DEBITED
    assert len(claimed) == 1
    assert result.follow_ups == [FollowUp("top_up", "acme", claimed[0])]

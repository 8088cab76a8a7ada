"""Activities of an auto top-up: charge the claimed top-up once (and read a charge whose
answer never came), then settle it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity

from activities.deps import ActivityDeps
from activities.payment_records import recorded_payment, settled_charge
from contracts.events import (
    TopUpCapture,
    TopUpOutcome,
    TopUpRefund,
    TopUpSettlement,
    TopUpStart,
    top_up_refund_key,
)
from contracts.payment_janitor import Recorded
from domain.receipts import ReceiptLine
from payments.gateway import PaymentResult, refund_made
from store.balance_watch import top_up_payment_key
from store.db import read_only, transaction
from store.event_models import AutoTopUp
from store.models import Account
from store.top_up_settlement import settle_top_up


def _top_up_capture(result: PaymentResult) -> TopUpCapture:
    return settled_charge(result, TopUpCapture)


class AutoTopUpActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._gateway = deps.gateway

    @activity.defn
    def capture_top_up(self, start: TopUpStart) -> TopUpCapture:
        """Charge the claimed top-up's price to the account's payment method. Key
        ``top-up:{account_id}:{month_start}:{sequence}``, made from the claimed row: a
        retry, a lost answer or a second run gets the first charge, never another."""
        with read_only(self._sessions) as session:
            top_up, account = self._claimed(session, start)
            key, method = top_up_payment_key(top_up), account.payment_method
            amount, currency, claimed_at = top_up.amount_minor, top_up.currency, top_up.claimed_at
            reference = f"auto top-up {top_up.top_up_id} ({top_up.pack})"
            line = ReceiptLine(
                description=f"Auto top-up, {top_up.credits:,} credits (one time)",
                amount_minor=amount,
            )
        result = self._gateway.capture(
            account_id=start.account_id,
            amount_minor=amount,
            currency=currency,
            payment_method=method,
            idempotency_key=key,
            reference=reference,
            at=claimed_at,
            lines=[line],
        )
        return _top_up_capture(result)

    @activity.defn
    def find_top_up_capture(self, start: TopUpStart) -> Recorded[TopUpCapture] | None:
        """Read-only (a local activity): what the payments table holds under the
        top-up's key, for a charge whose answer never came."""
        with read_only(self._sessions) as session:
            key = top_up_payment_key(self._claimed(session, start)[0])
        return recorded_payment(self._sessions, key, _top_up_capture)

    @staticmethod
    def _claimed(session: Session, start: TopUpStart) -> tuple[AutoTopUp, Account]:
        top_up = session.get(AutoTopUp, start.top_up_id)
        account = session.get(Account, start.account_id)
        if top_up is None or account is None or top_up.account_id != account.id:
            raise LookupError(f"There is no auto top-up {start.top_up_id} to charge.")
        return top_up, account

    @activity.defn
    def settle_auto_top_up(self, settlement: TopUpSettlement) -> TopUpOutcome:
        """Grant and write ``top_up.completed``, or turn auto top-up off and write
        ``top_up.declined``; one transaction. Idempotent: only an in-flight top-up moves
        (grant key ``top-up:…:grant``, event keys by top-up id)."""
        with transaction(self._sessions) as session:
            return settle_top_up(
                session,
                settlement.top_up_id,
                settlement.capture,
                settlement.at,
                settlement.refused,
            )

    @activity.defn
    def refund_top_up(self, refund: TopUpRefund) -> None:
        """Give back a charge whose credits can never be granted. Key
        ``refund:top-up:{top_up_id}``; a refund the provider did not make is refused."""
        refund_made(
            self._gateway.refund(
                payment_id=refund.payment_id,
                idempotency_key=top_up_refund_key(refund.top_up_id),
                reference=f"refund of auto top-up {refund.top_up_id}",
                at=refund.at,
            )
        )


def auto_top_up_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    top_up = AutoTopUpActivities(deps)
    return [
        top_up.capture_top_up,
        top_up.find_top_up_capture,
        top_up.settle_auto_top_up,
        top_up.refund_top_up,
    ]

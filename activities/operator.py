"""The operator actions' side effects: an operator refund through the gateway and its
settlement (credits revoked, audit completed), and the prorated refund of an add-on
ended now. Each is retried until it settles; its docstring names its key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from contracts.operator import (
    EndNowRefund,
    OperatorRefundStart,
    RefundedPayment,
    SettleRefund,
    end_now_refund_key,
    operator_refund_key,
)
from domain.calendar import Period
from domain.money import format_money
from domain.refunds import allocate, prorated_unused_minor
from payments.gateway import GatewayRejected
from store.db import transaction
from store.end_now_refunds import period_captures
from store.models import Payment
from store.operator import fail_refund_request, refunded_payment, settle_refund_request
from store.operator_models import RefundRequest


class OperatorActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._gateway = deps.gateway

    @activity.defn
    def refund_operator_request(self, start: OperatorRefundStart) -> str:
        """Refund the recorded request's amount; key ``refund:operator:{account}:{request}``,
        so a retry after a lost answer finds the first refund, never a second one."""
        result = self._gateway.refund(
            payment_id=start.payment_id,
            idempotency_key=operator_refund_key(start.account_id, start.request_id),
            reference=f"operator refund of {start.payment_id}",
            at=start.requested_at,
            amount_minor=start.amount_minor,
        )
        return result.payment_id

    @activity.defn
    def settle_operator_refund(self, settle: SettleRefund) -> RefundedPayment:
        """Write the outcome on the request, revoke credits (key ``revoke:{request}``)
        and complete its audit record; a second run changes nothing."""
        with transaction(self._sessions) as session:
            request = settle_refund_request(
                session, settle.request_id, settle.refund_payment_id, settle.at
            )
            refund = session.get(Payment, settle.refund_payment_id)
            assert refund is not None
            return refunded_payment(refund, request.credits_revoked)

    @activity.defn
    def fail_operator_refund(self, request_id: int) -> None:
        """The provider refused the refund for good: free its amount (idempotent)."""
        with transaction(self._sessions) as session:
            request = session.get(RefundRequest, request_id)
            if request is not None:
                fail_refund_request(session, request_id, request.updated_at)

    @activity.defn
    def refund_unused_period(self, request: EndNowRefund) -> list[RefundedPayment]:
        """The prorated refund of an add-on ended now, spread over the period's captures
        newest first. Keys ``refund:end-now:{account}:{period_start}:{payment}``: the
        split is recomputed from what the captures still hold, so a retry that finds a
        part refunded already answers it from its key instead of refunding again."""
        period = Period(start=request.period_start, end=request.period_end)
        amount = prorated_unused_minor(request.recurring_minor, period, request.at)
        with self._sessions() as session:
            holds = period_captures(session, request.account_id, period)
        refunds: list[RefundedPayment] = []
        parts = allocate(amount, holds)
        for index, (payment_id, part) in enumerate(parts):
            key = end_now_refund_key(request.account_id, period.start, payment_id)
            try:
                result = self._gateway.refund(
                    payment_id=payment_id,
                    idempotency_key=key,
                    reference=f"prorated refund: add-on ended {request.at:%Y-%m-%d}",
                    at=request.at,
                    amount_minor=part,
                )
            except GatewayRejected as refused:
                raise GatewayRejected(
                    self._unrefunded(request.account_id, parts[index:], refunds, refused)
                ) from refused
            with self._sessions() as session:
                stored = session.get(Payment, result.payment_id)
                assert stored is not None
                refunds.append(refunded_payment(stored))
        return refunds

    def _unrefunded(
        self,
        account_id: str,
        left: list[tuple[str, int]],
        made: list[RefundedPayment],
        refused: GatewayRejected,
    ) -> str:
        """What the provider refused, and the refunds an operator makes by hand instead
        (the parts after the refused one were never sent)."""
        with self._sessions() as session:
            currency = {
                payment_id: payment.currency
                for payment_id, _ in left
                if (payment := session.get(Payment, payment_id)) is not None
            }
        owed = ", ".join(format_money(part, currency.get(pid, "")) for pid, part in left)
        by_hand = "; ".join(
            f"`sms-addon ops refund {account_id} {pid} {part} --reason ...`" for pid, part in left
        )
        already = "".join(
            f"; {format_money(r.amount_minor, r.currency)} was refunded ({r.payment_id})"
            for r in made
        )
        return (
            f"the payment provider refused its prorated refund of {owed} ({refused}), so "
            f"that was not refunded{already}. Refund it by hand: {by_hand}"
        )


def operator_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    operator = OperatorActivities(deps)
    return [
        operator.refund_operator_request,
        operator.settle_operator_refund,
        operator.fail_operator_refund,
        operator.refund_unused_period,
    ]

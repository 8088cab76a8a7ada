"""The built-in sandbox gateway (API.md "Payment methods of the sandbox gateway").

It keeps its records in the service's own ``payments`` table, so every capture,
decline and refund it answers is visible in the payments list.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.enums import PaymentKind, PaymentStatus
from domain.receipts import BilledParty, ReceiptLine
from observability import metrics
from payments.attempts import receipt_lines, result_of
from payments.gateway import GatewayRejected, GatewayUnavailable, PaymentResult, UnknownPayment
from store.db import transaction
from store.models import Payment
from store.receipts import issue_receipt

DECLINING_METHOD = "pm_card_chargeDeclined"
# Records the charge, then loses the first response as a timeout would.
FLAKY_METHOD = "pm_card_flaky"
# Refused by the provider itself (as a bad parameter or a revoked key would be): not a
# decline, nothing recorded, and no retry helps.
REFUSED_METHOD = "pm_provider_refuses"


class SandboxGateway:
    def __init__(self, sessions: sessionmaker[Session], seller: BilledParty) -> None:
        self._sessions = sessions
        self._seller = seller  # who issues the receipts

    def capture(
        self,
        *,
        account_id: str,
        amount_minor: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        reference: str,
        at: datetime,
        lines: Sequence[ReceiptLine] = (),
    ) -> PaymentResult:
        if payment_method == REFUSED_METHOD:
            raise GatewayRejected(
                f"The provider refused the request: {REFUSED_METHOD} is not a payment method."
            )
        declined = payment_method == DECLINING_METHOD
        return self._record(
            Payment(
                account_id=account_id,
                kind=PaymentKind.CAPTURE.value,
                amount_minor=amount_minor,
                currency=currency,
                status=(PaymentStatus.DECLINED if declined else PaymentStatus.SUCCEEDED).value,
                payment_method=payment_method,
                decline_reason="Your card was declined." if declined else None,
                reference=reference,
                idempotency_key=idempotency_key,
                response_delivered=payment_method != FLAKY_METHOD,
                at=at,
                lines=receipt_lines(lines),
            )
        )

    def refund(
        self,
        *,
        payment_id: str,
        idempotency_key: str,
        reference: str,
        at: datetime,
        amount_minor: int | None = None,
    ) -> PaymentResult:
        with transaction(self._sessions) as session:
            original = session.get(Payment, payment_id)
            if original is None or original.status != PaymentStatus.SUCCEEDED:
                raise UnknownPayment(f"No succeeded payment {payment_id} to refund.")
            if amount_minor is not None and not 0 < amount_minor <= original.amount_minor:
                raise GatewayRejected(
                    f"A refund of {amount_minor} does not fit the capture {payment_id}."
                )
            refund = Payment(
                account_id=original.account_id,
                kind=PaymentKind.REFUND.value,
                amount_minor=original.amount_minor if amount_minor is None else amount_minor,
                currency=original.currency,
                status=PaymentStatus.SUCCEEDED.value,
                payment_method=original.payment_method,
                refund_of=payment_id,
                reference=reference,
                idempotency_key=idempotency_key,
                response_delivered=True,
                at=at,
            )
        return self._record(refund)

    def _record(self, payment: Payment) -> PaymentResult:
        """Insert unless the key was seen; answer with whatever the key recorded first."""
        key = payment.idempotency_key
        try:
            with transaction(self._sessions) as session:
                existing = self._find(session, key)
                if existing is not None:
                    existing.response_delivered = True
                    return result_of(existing)
                payment.payment_id = f"pay_{uuid.uuid4().hex[:24]}"
                payment.created_at = datetime.now(UTC)  # audit only; business time is `at`
                session.add(payment)
                session.flush()
                issue_receipt(session, payment, self._seller)  # with the payment, or neither
                metrics.count_on_commit(
                    session, metrics.PAYMENTS, kind=payment.kind, status=payment.status
                )
                result = result_of(payment)
        except IntegrityError:
            # A concurrent call with the same key won the insert: answer with its record.
            with transaction(self._sessions) as session:
                winner = self._find(session, key)
                if winner is None:
                    raise
                return result_of(winner)
        if not payment.response_delivered:
            raise GatewayUnavailable("The gateway did not answer in time; retry with the same key.")
        return result

    @staticmethod
    def _find(session: Session, key: str) -> Payment | None:
        return session.scalars(select(Payment).where(Payment.idempotency_key == key)).first()

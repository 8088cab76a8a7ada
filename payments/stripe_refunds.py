"""The Stripe gateway's refunds (``payments.stripe_gateway``): one Stripe Refund per
refund, with our key in its metadata. The attempt is recorded under our key before Stripe
is called, and a refund whose id was not stored is found again among the intent's refunds
by that key, so a retry never refunds twice."""

from __future__ import annotations

from datetime import datetime

import stripe

from domain.enums import PaymentKind, PaymentStatus
from payments import attempts
from payments.gateway import GatewayRejected, PaymentResult, UnknownPayment
from payments.stripe_connection import StripeConnection
from payments.stripe_outcomes import Outcome, metadata_value, raise_typed, refund_outcome
from store.models import Payment


class StripeRefunds(StripeConnection):
    """Refunds of captured payments; ``StripeGateway`` adds captures and the janitor."""

    def refund(
        self,
        *,
        payment_id: str,
        idempotency_key: str,
        reference: str,
        at: datetime,
        amount_minor: int | None = None,
    ) -> PaymentResult:
        original = attempts.find(self._sessions, payment_id)
        if original is None or original.status != PaymentStatus.SUCCEEDED:
            raise UnknownPayment(f"No succeeded payment {payment_id} to refund.")
        if amount_minor is not None and not 0 < amount_minor <= original.amount_minor:
            raise GatewayRejected(f"A refund of {amount_minor} does not fit {payment_id}.")
        attempt = attempts.open_attempt(
            self._sessions,
            Payment(
                account_id=original.account_id,
                kind=PaymentKind.REFUND.value,
                # The amount recorded with the key is the one sent, on every retry too.
                amount_minor=original.amount_minor if amount_minor is None else amount_minor,
                currency=original.currency,
                payment_method=original.payment_method,
                refund_of=payment_id,
                reference=reference,
                idempotency_key=idempotency_key,
                at=at,
            ),
        )
        if attempts.is_settled(attempt):
            return attempts.result_of(attempt)
        if original.provider_ref is None:  # a zero capture: nothing went to Stripe
            return self._record(attempt, Outcome(PaymentStatus.SUCCEEDED))
        refund = self._known_refund(attempt, original.provider_ref)
        if refund is None:
            refund = self._create_refund(attempt, original.provider_ref)
        return self._record(attempt, refund_outcome(refund))

    def _known_refund(self, attempt: Payment, intent_id: str) -> stripe.Refund | None:
        """The refund this attempt already made: by stored id, else found among the
        intent's refunds by our key in its metadata (its id may not have been stored)."""
        try:
            if attempt.provider_ref is not None:
                return self._stripe.refunds.retrieve(attempt.provider_ref)
            for refund in self._stripe.refunds.list({"payment_intent": intent_id}).data:
                if metadata_value(refund.metadata, "payment_key") == attempt.idempotency_key:
                    attempts.attach_provider_ref(self._sessions, attempt.payment_id, refund.id)
                    return refund
        except stripe.StripeError as error:
            raise_typed(error, f"looking up the refund {attempt.idempotency_key}")
        return None

    def _create_refund(self, attempt: Payment, intent_id: str) -> stripe.Refund:
        try:
            refund = self._stripe.refunds.create(
                {
                    "payment_intent": intent_id,
                    "amount": attempt.amount_minor,
                    "metadata": {
                        "account_id": attempt.account_id,
                        "payment_key": attempt.idempotency_key,
                        "reference": attempt.reference,
                    },
                },
                {"idempotency_key": attempt.idempotency_key},
            )
        except stripe.StripeError as error:
            try:
                raise_typed(error, f"refunding {intent_id}")
            except GatewayRejected as refused:
                # Stripe made no refund: its amount is free again (an operator's refund
                # by hand may take it), as after a refund the sandbox refuses.
                self._record(attempt, Outcome(PaymentStatus.DECLINED, str(refused)))
                raise
            raise
        attempts.attach_provider_ref(self._sessions, attempt.payment_id, refund.id)
        return refund

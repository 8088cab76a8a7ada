"""What every part of the Stripe gateway works through (``payments.stripe_gateway``): the
Stripe client, the attempts table, and the few calls captures, refunds and the janitor
share: looking up an intent, cancelling one nobody will confirm, recording an outcome."""

from __future__ import annotations

import logging

import stripe
from sqlalchemy.orm import Session, sessionmaker

from domain.receipts import BilledParty
from payments import attempts
from payments.gateway import PaymentResult
from payments.stripe_outcomes import Outcome, raise_typed
from store.models import Payment

log = logging.getLogger(__name__)


class StripeConnection:
    """The client and the attempts table every part of the gateway works through."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: stripe.StripeClient,
        *,
        seller: BilledParty,
        localstripe: bool = False,
    ) -> None:
        self._sessions = sessions
        self._seller = seller  # who issues the receipts
        self._stripe = client.v1
        self._localstripe = localstripe

    def _retrieve(self, intent_id: str) -> stripe.PaymentIntent:
        try:
            return self._stripe.payment_intents.retrieve(intent_id)
        except stripe.StripeError as error:
            raise_typed(error, f"looking up {intent_id}")
            raise

    def _cancel_quietly(self, intent_id: str) -> stripe.PaymentIntent | None:
        """Cancel an intent nobody will confirm; it may have moved on meanwhile (then
        Stripe refuses and the caller reads its real status)."""
        try:
            return self._stripe.payment_intents.cancel(intent_id)
        except stripe.StripeError as error:
            log.info("could not cancel %s: %s", intent_id, error)
            return None

    def _record(self, attempt: Payment, outcome: Outcome) -> PaymentResult:
        stored = attempts.settle(
            self._sessions,
            attempt.payment_id,
            outcome.status,
            seller=self._seller,
            decline_reason=outcome.decline_reason,
        )
        return attempts.result_of(stored)

"""The Stripe gateway: one Customer per account, one off-session PaymentIntent per
capture, one Refund per refund (API.md "Payment provider").

Exactly once without trusting Stripe's Idempotency-Key (localstripe ignores it, Stripe
keeps it 24 hours): the attempt is recorded under our key first (``payments.attempts``);
the PaymentIntent is created unconfirmed, its id stored, and only then confirmed. Money
moves only by confirming a stored intent id, so a crash or timeout at any point is
settled by retrieving that intent, never by charging again. A crash before the id is
stored leaves at most an unconfirmed intent on Stripe's side, which cannot charge.

Create (customer, method, metadata; unconfirmed) → store the id → confirm with
``off_session`` (merchant-initiated; ``allow_redirects=never`` spares a ``return_url``).
localstripe refuses both parameters, so ``localstripe=True`` leaves them out. Raises
``PaymentUnknown`` (retryable), ``GatewayRejected`` (not); a decline is a result.

Captures and the janitor's settling of stale attempts are here; refunds are in
``payments.stripe_refunds``, and what all three share (the client, the attempts table,
looking up and cancelling an intent, recording an outcome) in ``payments.stripe_connection``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import stripe
from stripe.params import PaymentIntentConfirmParams, PaymentIntentCreateParams

from contracts.payment_janitor import JanitorReport
from domain.enums import PaymentKind, PaymentStatus
from domain.receipts import ReceiptLine
from payments import attempts
from payments.gateway import PaymentResult, PaymentUnknown
from payments.stripe_customers import customer_with_method
from payments.stripe_outcomes import (
    AUTHENTICATION_REQUIRED,
    NEVER_CREATED,
    Outcome,
    card_error_reason,
    intent_outcome,
    raise_typed,
    refund_outcome,
)
from payments.stripe_refunds import StripeRefunds
from store.models import Payment

log = logging.getLogger(__name__)


class StripeGateway(StripeRefunds):
    """The gateway ``payments.factory`` builds for ``SMS_PAYMENT_GATEWAY=stripe``."""

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
        attempt = attempts.open_attempt(
            self._sessions,
            Payment(
                account_id=account_id,
                kind=PaymentKind.CAPTURE.value,
                amount_minor=amount_minor,
                currency=currency,
                payment_method=payment_method,
                reference=reference,
                idempotency_key=idempotency_key,
                at=at,
                lines=attempts.receipt_lines(lines),
            ),
        )
        if attempts.is_settled(attempt):
            return attempts.result_of(attempt)
        if attempt.amount_minor == 0:  # nothing to take; Stripe refuses zero amounts
            return self._record(attempt, Outcome(PaymentStatus.SUCCEEDED))
        if attempt.provider_ref is None:
            intent_id = self._create_intent(attempt)
            if intent_id is None:
                return attempts.result_of(attempts.reload(self._sessions, attempt.payment_id))
            intent, card_error = self._confirm(intent_id, attempt.idempotency_key)
        else:  # a retry after a crash or a lost answer: Stripe knows how far it got
            intent, card_error = self._retrieve(attempt.provider_ref), None
            if intent.status == "requires_confirmation":
                intent, card_error = self._confirm(intent.id, attempt.idempotency_key)
        return self._record(attempt, self._intent_outcome(intent, card_error))

    def _create_intent(self, attempt: Payment) -> str | None:
        """Create the unconfirmed intent and store its id; None if the attempt was
        settled meanwhile (the janitor closed it), the new intent then being cancelled."""
        try:
            customer, method = customer_with_method(
                self._stripe, self._sessions, attempt.account_id, attempt
            )
        except stripe.CardError as error:  # the card refused to be attached
            self._record(attempt, Outcome(PaymentStatus.DECLINED, card_error_reason(error)))
            return None
        params: PaymentIntentCreateParams = {
            "amount": attempt.amount_minor,
            "currency": attempt.currency.lower(),
            "customer": customer,
            "payment_method": method,
            "metadata": {
                "account_id": attempt.account_id,
                "payment_key": attempt.idempotency_key,
                "reference": attempt.reference,
            },
        }
        if not self._localstripe:
            params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
        try:
            intent = self._stripe.payment_intents.create(
                params, {"idempotency_key": attempt.idempotency_key}
            )
        except stripe.StripeError as error:
            raise_typed(error, f"creating the payment intent of {attempt.idempotency_key}")
            raise
        if not attempts.attach_provider_ref(self._sessions, attempt.payment_id, intent.id):
            self._cancel_quietly(intent.id)
            return None
        return intent.id

    def _confirm(
        self, intent_id: str, key: str
    ) -> tuple[stripe.PaymentIntent, stripe.CardError | None]:
        """Confirm once; whatever the call answered, the intent itself says what happened."""
        params: PaymentIntentConfirmParams = {} if self._localstripe else {"off_session": True}
        try:
            return (
                self._stripe.payment_intents.confirm(
                    intent_id, params, {"idempotency_key": f"{key}:confirm"}
                ),
                None,
            )
        except stripe.CardError as error:
            return self._retrieve(intent_id), error
        except stripe.StripeError as error:
            intent = self._retrieve(intent_id)
            if intent.status == "requires_confirmation":  # the confirm did not happen
                raise_typed(error, f"confirming {intent_id}")
            return intent, None

    def _intent_outcome(
        self, intent: stripe.PaymentIntent, card_error: stripe.CardError | None
    ) -> Outcome:
        if intent.status == "requires_action":
            # Nobody is present to authenticate: cancel so it can never complete later.
            cancelled = self._cancel_quietly(intent.id)
            if cancelled is not None and cancelled.status == "canceled":
                return Outcome(PaymentStatus.DECLINED, AUTHENTICATION_REQUIRED)
            intent = self._retrieve(intent.id)
        return intent_outcome(intent, card_error)

    # -- the janitor ---------------------------------------------------------------------

    def settle_stale(self, *, now: datetime, older_than: timedelta, limit: int) -> JanitorReport:
        """Settle attempts left pending longer than ``older_than`` from what Stripe knows.
        Moves no money: it adopts outcomes, cancels intents never confirmed, and closes
        attempts that never reached an intent (they cannot have charged)."""
        report = JanitorReport()
        for attempt in attempts.stale_attempts(self._sessions, now - older_than, limit):
            report.examined += 1
            try:
                settled = self._settle_stale(attempt)
            except (PaymentUnknown, stripe.StripeError) as error:
                log.warning("payment %s stays open: %s", attempt.idempotency_key, error)
                settled = None
            if settled is None:
                report.still_open += 1
            elif settled.status == PaymentStatus.SUCCEEDED:
                report.succeeded += 1
            else:
                report.declined += 1
        return report

    def _settle_stale(self, attempt: Payment) -> PaymentResult | None:
        if attempt.kind == PaymentKind.REFUND:
            original = attempts.find(self._sessions, attempt.refund_of or "")
            if original is None or original.provider_ref is None:
                return None
            refund = self._known_refund(attempt, original.provider_ref)
            # A refund never issued is left to its workflow's retry: no money moves here.
            return None if refund is None else self._record(attempt, refund_outcome(refund))
        if attempt.provider_ref is None:
            return self._record(attempt, Outcome(PaymentStatus.DECLINED, NEVER_CREATED))
        intent = self._retrieve(attempt.provider_ref)
        if intent.status == "requires_confirmation":
            intent = self._cancel_quietly(intent.id) or self._retrieve(intent.id)
        return self._record(attempt, self._intent_outcome(intent, None))

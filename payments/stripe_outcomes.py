"""What a Stripe object or error means for us: succeeded, declined (and why), or not
known yet. Pure functions of what Stripe answered."""

from __future__ import annotations

from dataclasses import dataclass

import stripe

from domain.enums import PaymentStatus
from payments.gateway import GatewayRejected, PaymentUnknown

AUTHENTICATION_REQUIRED = (
    "Authentication required (3-D Secure): the card's bank asks the cardholder to "
    "confirm this payment, which cannot happen while they are away. Update the payment "
    "method, or pay while present."
)
NEVER_CREATED = "The payment attempt never reached Stripe; nothing was charged."
ABANDONED = "The payment attempt was abandoned before it was confirmed; nothing was charged."
# Stripe's codes for a card that needs the cardholder (SCA / 3-D Secure).
_AUTHENTICATION_CODES = {"authentication_required", "payment_intent_authentication_failure"}


@dataclass(frozen=True)
class Outcome:
    status: PaymentStatus
    decline_reason: str | None = None


def decline_reason(code: str | None, decline_code: str | None, message: str | None) -> str:
    if code in _AUTHENTICATION_CODES or decline_code == "authentication_required":
        return AUTHENTICATION_REQUIRED
    detail = decline_code or code
    text = message or "The card was declined."
    return f"{text} ({detail})" if detail else text


def card_error_reason(error: stripe.CardError) -> str:
    details = error.error
    decline_code = getattr(details, "decline_code", None) if details is not None else None
    return decline_reason(error.code, decline_code, error.user_message)


def intent_outcome(intent: stripe.PaymentIntent, card_error: stripe.CardError | None) -> Outcome:
    """Settle by the intent's own status; ``PaymentUnknown`` while Stripe has no outcome.
    ``requires_action`` must be cancelled by the caller before this answers a decline."""
    status = intent.status
    if status == "succeeded":
        return Outcome(PaymentStatus.SUCCEEDED)
    if status == "requires_action":
        return Outcome(PaymentStatus.DECLINED, AUTHENTICATION_REQUIRED)
    if status == "canceled":
        return Outcome(PaymentStatus.DECLINED, ABANDONED)
    if status == "requires_payment_method":
        if card_error is not None:
            return Outcome(PaymentStatus.DECLINED, card_error_reason(card_error))
        error = intent.last_payment_error
        if error is None:
            return Outcome(PaymentStatus.DECLINED, decline_reason(None, None, None))
        return Outcome(
            PaymentStatus.DECLINED,
            decline_reason(
                getattr(error, "code", None),
                getattr(error, "decline_code", None),
                getattr(error, "message", None),
            ),
        )
    raise PaymentUnknown(f"Stripe has no outcome for {intent.id} yet (status {status}).")


def refund_outcome(refund: stripe.Refund) -> Outcome:
    """A refund Stripe accepted (``succeeded``, or ``pending`` while the bank completes
    it) is given; ``failed`` and ``canceled`` are not."""
    if refund.status in {"failed", "canceled"}:
        reason = getattr(refund, "failure_reason", None) or refund.status
        return Outcome(PaymentStatus.DECLINED, f"Stripe could not refund: {reason}")
    return Outcome(PaymentStatus.SUCCEEDED)


def raise_typed(error: stripe.StripeError, doing: str) -> None:
    """Turn a Stripe error that leaves the outcome open into ``PaymentUnknown`` (retry)
    and one that no retry can fix into ``GatewayRejected``."""
    if isinstance(error, stripe.APIConnectionError | stripe.APIError | stripe.RateLimitError):
        raise PaymentUnknown(f"Stripe did not answer while {doing}: {error}") from error
    if isinstance(error, stripe.IdempotencyError):
        raise PaymentUnknown(f"Stripe is still processing {doing}: {error}") from error
    raise GatewayRejected(f"Stripe refused {doing}: {error}") from error


def metadata_value(metadata: stripe.StripeObject | None, key: str) -> str | None:
    value = None if metadata is None else metadata.to_dict().get(key)
    return value if isinstance(value, str) else None

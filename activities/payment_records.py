"""A charge as the gateway answered it, and what a workflow reads of a payment whose
answer never came (docs/design.md, "Every call to the provider is bounded"): the
attempt the gateway recorded under its key, settled since (by a late answer, or by
the payment janitor against the provider) or still pending."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from contracts.payment_janitor import Recorded, SettledCharge
from payments import attempts
from payments.gateway import PaymentResult

T = TypeVar("T")
Charge = TypeVar("Charge", bound=SettledCharge)


def settled_charge(result: PaymentResult, model: type[Charge]) -> Charge:
    """The gateway's answer to a charge, as ``model`` carries it to the workflow."""
    shared = result.model_dump(include={"payment_id", "amount_minor", "currency", "decline_reason"})
    return model(**shared, succeeded=result.succeeded, unsent=attempts.never_sent(result))


def recorded_payment(
    sessions: sessionmaker[Session], key: str, outcome: Callable[[PaymentResult], T]
) -> Recorded[T] | None:
    """The attempt under ``key`` as ``outcome`` reads it, or no outcome while it is
    pending; None when nothing was recorded under it, so nothing can have been charged
    or refunded under it."""
    payment = attempts.by_key(sessions, key)
    if payment is None:
        return None
    if not attempts.is_settled(payment):
        return Recorded()
    return Recorded(outcome=outcome(attempts.result_of(payment)))

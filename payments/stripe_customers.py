"""One Stripe Customer per account, and the account's payment method attached to it."""

from __future__ import annotations

import stripe
from sqlalchemy.orm import Session, sessionmaker
from stripe._v1_services import V1Services

from payments import attempts
from payments.stripe_outcomes import raise_typed
from store.models import Payment


def customer_with_method(
    stripe_v1: V1Services, sessions: sessionmaker[Session], account_id: str, attempt: Payment
) -> tuple[str, str]:
    """The account's Stripe Customer (created on first need) and the account's
    payment method attached to it, as Stripe's PaymentMethod id."""
    customer = attempts.customer_of(sessions, account_id)
    try:
        if customer is None:
            created = stripe_v1.customers.create(
                {"metadata": {"account_id": account_id}},
                {"idempotency_key": f"customer:{account_id}"},
            )
            customer = attempts.save_customer(sessions, account_id, created.id)
        method = customer.attached_method_ref
        if method is None or customer.payment_method != attempt.payment_method:
            attached = stripe_v1.payment_methods.attach(
                attempt.payment_method, {"customer": customer.customer_ref}
            )
            attempts.save_attached_method(sessions, account_id, attempt.payment_method, attached.id)
            method = attached.id
    except stripe.CardError:
        raise
    except stripe.StripeError as error:
        raise_typed(error, f"preparing the customer of {account_id}")
        raise
    return customer.customer_ref, method

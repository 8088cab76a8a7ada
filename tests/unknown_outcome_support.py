"""A renewal's charge whose outcome stays unknown, for the subscription tests: the
gateway as a network fault leaves it (the attempt recorded pending under its key, no
answer), and what the payment janitor writes once the provider has told it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.subscription import SubscriptionActivities, renewal_charge_key
from contracts.subscription import ChargeOutcome, ChargeRequest
from domain.enums import PaymentKind, PaymentStatus
from payments import attempts
from payments.gateway import PaymentUnknown
from store.models import Account, AddonSubscription, Payment
from tests.support import SELLER


class OutcomeUnknown:
    """A provider that takes the charges ``lost`` picks but never answers them (as
    Stripe behind a network fault): each is recorded pending under its key, for the
    payment janitor to settle. Every other charge is the real one."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        real: SubscriptionActivities,
        lost: Callable[[ChargeRequest], bool],
    ) -> None:
        self.sessions, self.real, self.lost = sessions, real, lost
        self.unanswered: dict[str, ChargeRequest] = {}  # by key: retries send the same

    @activity.defn(name="charge_addon_renewal")
    def charge_addon_renewal(self, request: ChargeRequest) -> ChargeOutcome:
        if not self.lost(request):
            return self.real.charge_addon_renewal(request)
        assert request.amount_minor is not None
        with self.sessions() as session:
            account = session.get(Account, request.account_id)
            addon = session.get(AddonSubscription, request.account_id)
            assert account is not None and addon is not None
            method, currency = account.payment_method, addon.currency
        key = renewal_charge_key(request)
        attempts.open_attempt(
            self.sessions,
            Payment(
                account_id=request.account_id,
                kind=PaymentKind.CAPTURE.value,
                amount_minor=request.amount_minor,
                currency=currency,
                payment_method=method,
                reference="renewal",
                idempotency_key=key,
                at=request.at,
            ),
        )
        self.unanswered[key] = request
        raise PaymentUnknown("the provider took the request and never answered")


def pending_attempt(sessions: sessionmaker[Session], account_id: str) -> Payment:
    with sessions() as session:
        (attempt,) = session.scalars(
            select(Payment).where(Payment.account_id == account_id, Payment.status == "pending")
        )
        return attempt


def settle_as_janitor(
    sessions: sessionmaker[Session],
    account_id: str,
    status: PaymentStatus,
    decline_reason: str | None = None,
) -> None:
    """Settle the account's one pending attempt as the janitor does, from what the
    provider says of it."""
    attempt = pending_attempt(sessions, account_id)
    attempts.settle(
        sessions, attempt.payment_id, status, seller=SELLER, decline_reason=decline_reason
    )

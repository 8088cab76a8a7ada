"""The gateway the worker uses, chosen at the edge by ``SMS_PAYMENT_GATEWAY``."""

from __future__ import annotations

from typing import Protocol

import stripe
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from domain.receipts import BilledParty
from payments.gateway import PaymentGateway
from payments.sandbox import SandboxGateway
from payments.stripe_gateway import StripeGateway

# Below the activities' 10 s start-to-close timeout, so a slow Stripe call ends as
# PaymentUnknown inside the attempt instead of outliving it.
STRIPE_TIMEOUT_SECONDS = 8.0


class GatewaySettings(Protocol):
    """The settings the choice reads (``config.settings.Settings`` has them)."""

    @property
    def sms_payment_gateway(self) -> str: ...
    @property
    def stripe_api_key(self) -> SecretStr: ...
    @property
    def stripe_api_base(self) -> str: ...
    @property
    def stripe_localstripe(self) -> bool: ...
    @property
    def seller(self) -> BilledParty: ...


def build_gateway(settings: GatewaySettings, sessions: sessionmaker[Session]) -> PaymentGateway:
    if settings.sms_payment_gateway != "stripe":
        return SandboxGateway(sessions, settings.seller)
    client = stripe.StripeClient(
        settings.stripe_api_key.get_secret_value(),
        base_addresses={"api": settings.stripe_api_base},
        # Temporal retries the activity with the same key; the SDK retrying too would
        # only hide how long a call really took.
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=STRIPE_TIMEOUT_SECONDS),
    )
    return StripeGateway(
        sessions, client, seller=settings.seller, localstripe=settings.stripe_localstripe
    )

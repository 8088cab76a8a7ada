"""What activities need from the process: database, catalogue, gateway, Temporal client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from contracts.events import DEFAULT_DELIVERY_RETRY
from domain.addon import DEFAULT_DUNNING_RETRY_DAYS
from domain.catalogue import Catalogue
from outbound.smtp import Mailer
from payments.gateway import PaymentGateway


@dataclass(frozen=True)
class ActivityDeps:
    sessions: sessionmaker[Session]
    catalogue: Catalogue
    gateway: PaymentGateway
    client: Client
    dunning_retry_days: tuple[int, ...] = DEFAULT_DUNNING_RETRY_DAYS
    # Webhooks may reach private addresses (SMS_WEBHOOK_ALLOW_PRIVATE).
    webhook_allow_private: bool = False
    # How mail is sent (SMS_SMTP_URL …); None: mail is off.
    mailer: Mailer | None = None
    # How long a webhook delivery is retried (SMS_WEBHOOK_RETRY_DAYS).
    webhook_delivery_retry: timedelta = DEFAULT_DELIVERY_RETRY
    # How often the event sweep runs (SMS_EVENT_SWEEP_SECONDS): it spreads its starts
    # over that time. None: it starts everything at once.
    event_sweep_every: timedelta | None = None

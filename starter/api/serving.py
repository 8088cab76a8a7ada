"""Serving the API with uvicorn from one or several processes (``sms-addon api``).

Several processes share the port (uvicorn's supervisor starts them, each a fresh
interpreter), so the app is named by an import string and built by ``served_app`` in
each process, which sets up that process's logging and tracing first. Each process has
its own database pool and debit committers: a debit's correctness rests on its database
transaction (the account's row lock), not on being alone in the process.
"""

from __future__ import annotations

import os
from contextlib import nullcontext

import uvicorn
from fastapi import FastAPI

from config.heap import freeze_startup_heap
from config.settings import Settings, get_settings, secrets_of
from observability import tracing
from observability.api_metrics import mark_dead_on_exit, shared_between_processes
from observability.logs import configure_logging
from starter.api.app import create_app

APP_FACTORY = f"{__name__}:served_app"


def served_app() -> FastAPI:
    """The app as one serving process builds it."""
    settings = get_settings()
    configure_logging(settings.sms_log_format, settings.sms_log_level, secrets_of(settings))
    tracing.install_from_settings(settings.otel_exporter_otlp_endpoint, "sms-addon-api")
    mark_dead_on_exit()
    app = create_app(settings)
    freeze_startup_heap()
    return app


def api_processes(settings: Settings, asked: int | None) -> int:
    """``--workers`` if given, else SMS_API_WORKERS, else one per CPU."""
    return asked or settings.sms_api_workers or os.cpu_count() or 1


def serve(host: str, port: int, processes: int) -> None:
    with shared_between_processes() if processes > 1 else nullcontext():
        uvicorn.run(
            APP_FACTORY,
            host=host,
            port=port,
            workers=processes,
            factory=True,
            log_config=None,  # keep our handlers (JSON or text, redacted)
            access_log=False,  # starter/api/middleware.py writes the access line, with its ids
        )

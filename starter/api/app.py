"""The FastAPI application: a lifespan that owns the clients, and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from temporalio.client import Client

from application.context import Services, TemporalLink
from application.db_writer import DbWriter
from application.token_cache import TtlCache
from config.settings import Settings, get_settings
from config.startup import load_checked
from domain.catalogue import load_catalogue
from observability import tracing
from starter.api import webhook_docs
from starter.api.body_guard import BodyGuard
from starter.api.errors import install_error_handlers
from starter.api.faults import install_faults
from starter.api.middleware import install_middleware
from starter.api.openapi import install_openapi
from starter.api.routes import (
    addon,
    admin,
    alerts,
    billing,
    billing_details,
    catalogue,
    event_redelivery,
    health,
    metrics,
    operator,
    purchases,
    receipts,
    refunds,
    registration,
    sending,
)
from starter.web import receipt_routes as billing_page_receipts
from starter.web import routes as billing_page
from store.db import make_session_factory

ROUTERS = (
    # Sending first: a request is matched against the routes in this order, and sends
    # are nearly all of the traffic. No other route's pattern matches their paths.
    sending.router,
    health.router,
    metrics.router,
    admin.router,
    operator.router,
    event_redelivery.router,
    refunds.router,
    catalogue.router,
    billing.router,
    billing_details.router,
    receipts.router,
    purchases.router,
    addon.router,
    alerts.router,
    registration.router,
    registration.webhooks,
    billing_page.router,
    billing_page_receipts.router,
    billing_page.icon_router,
)


def build_services(settings: Settings, temporal_client: Client | None = None) -> Services:
    """Load and check everything the API needs; ``StartupRefused`` (one line) if it cannot serve."""
    catalogue, engine = load_checked(settings)
    return Services(
        settings=settings,
        catalogue=catalogue,
        engine=engine,
        sessions=make_session_factory(engine),
        temporal=TemporalLink(settings, temporal_client),
        writer=DbWriter(engine, settings.sms_db_writers),
        callers=TtlCache(settings.sms_token_cache_seconds),
    )


def create_app(settings: Settings | None = None, temporal_client: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings, temporal_client)
        app.state.services = services
        yield
        services.writer.close()
        services.engine.dispose()

    # Swagger UI and ReDoc from assets packaged with the service, no CDN.
    app = FastAPIOffline(
        title="SMS add-on",
        version="0.1.0",
        summary="Buy the SMS add-on and credit packs, renew credits monthly, spend them.",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry hooks would ask the global providers on every
        # request; tracing here is observability/tracing.py's, which is off unless
        # an OTLP endpoint is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    app.add_middleware(BodyGuard)
    install_faults(app, page_prefix=billing_page.router.prefix, page=billing_page.unavailable)
    install_openapi(app, lambda: load_catalogue(settings.sms_catalogue_path))
    install_middleware(app)
    tracing.instrument_app(app)
    for router in ROUTERS:
        app.include_router(router)
    app.webhooks.include_router(webhook_docs.outbound)
    return app

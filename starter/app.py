"""The FastAPI application: a lifespan that owns the clients, and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from config.settings import Settings, get_settings
from domain.catalogue import load_catalogue
from starter.errors import install_error_handlers
from starter.routes import admin, catalogue, health
from starter.services import Services, TemporalLink
from store.db import make_engine, make_session_factory
from store.migrate import schema_problem

ROUTERS = (health.router, admin.router, catalogue.router)


class StartupRefused(RuntimeError):
    """The process must not serve: the message says what to run."""


def build_services(settings: Settings, temporal_client: Client | None = None) -> Services:
    """Load and check everything the API needs; refuse with one line if it cannot serve."""
    catalogue = load_catalogue(settings.sms_catalogue_path)
    engine = make_engine(settings.database_url)
    if (problem := schema_problem(engine)) is not None:
        engine.dispose()
        raise StartupRefused(problem)
    return Services(
        settings=settings,
        catalogue=catalogue,
        engine=engine,
        sessions=make_session_factory(engine),
        temporal=TemporalLink(settings, temporal_client),
    )


def create_app(settings: Settings | None = None, temporal_client: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings, temporal_client)
        app.state.services = services
        yield
        services.engine.dispose()

    app = FastAPI(
        title="SMS add-on",
        version="0.1.0",
        summary="Buy the SMS add-on and credit packs, renew credits monthly, spend them.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app

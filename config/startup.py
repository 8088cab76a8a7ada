"""What the worker and the API check before they serve, each refusal one line saying what to do.

Both processes share these checks so that an invalid catalogue, a schema behind
head or an unreachable dependency reads the same from either of them.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import Client
from temporalio.runtime import Runtime

from config.settings import Settings
from config.temporal import connect
from domain.catalogue import Catalogue, CatalogueError, load_catalogue
from store.db import make_engine
from store.migrate import schema_problem


class StartupRefused(RuntimeError):
    """The process must not serve; the message is one line saying what to run or fix."""


def load_checked(settings: Settings) -> tuple[Catalogue, Engine]:
    """The catalogue and a database engine whose schema is at head, or ``StartupRefused``."""
    try:
        catalogue = load_catalogue(settings.sms_catalogue_path)
    except CatalogueError as exc:
        raise StartupRefused(
            f"Invalid catalogue: {exc}. Fix the file or set SMS_CATALOGUE_PATH."
        ) from exc
    engine = make_engine(settings.database_url)
    try:
        problem = schema_problem(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StartupRefused(
            f"Cannot open the database at {engine.url!r} ({reason}): "
            "check DATABASE_URL and that the server is running."
        ) from exc
    if problem is not None:
        engine.dispose()
        raise StartupRefused(problem)
    return catalogue, engine


async def connect_checked(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A Temporal client, or ``StartupRefused`` naming the address to fix."""
    try:
        return await connect(settings, runtime)
    except RuntimeError as exc:
        reason = str(exc).splitlines()[0]
        raise StartupRefused(
            f"Cannot connect to Temporal ({reason}): start it (`make run` does) "
            "or set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY."
        ) from exc

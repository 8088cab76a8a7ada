"""``GET /healthz``: 200 when the database and Temporal answer, else 503 naming the part."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from starter.api.app import build_services
from store.db import make_engine
from tests.ports import free_port
from tests.support import migrated_engine, serving, settings_for


async def test_healthy(engine, database_url, dev_env):
    services = build_services(settings_for(database_url), dev_env.client)
    async with serving(services) as api:
        response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_database_unreachable(tmp_path: Path, dev_env):
    """The SQLite file's directory vanishes under a running API."""
    directory = tmp_path / "gone"
    migrated_engine(f"sqlite:///{directory / 'sms.db'}").dispose()
    services = build_services(settings_for(f"sqlite:///{directory / 'sms.db'}"), dev_env.client)
    async with serving(services) as api:
        assert (await api.get("/healthz")).status_code == 200
        shutil.rmtree(directory)
        services.engine.dispose()  # drop pooled connections to the deleted file
        response = await api.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable", "temporal": "ok"}


async def test_database_server_unreachable(sqlite_engine, sqlite_url, dev_env):
    """The database server stops answering (a PostgreSQL URL on a closed port)."""
    services = build_services(settings_for(sqlite_url), dev_env.client)
    async with serving(services) as api:
        services.engine.dispose()
        services.engine = make_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone",
            connect_args={"connect_timeout": 2},
        )
        response = await api.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert response.json()["temporal"] == "ok"


async def test_temporal_unreachable(sqlite_engine, sqlite_url, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)  # envconfig would take it first
    settings = settings_for(sqlite_url, temporal_address=f"127.0.0.1:{free_port()}")
    async with serving(build_services(settings, None)) as api:
        response = await api.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "temporal": "unreachable"}

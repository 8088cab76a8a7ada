"""``GET /healthz``: the database and Temporal, each named when it fails."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from application.context import Services
from starter.api.deps import ServicesDep

router = APIRouter(tags=["health"])

HEALTH_TIMEOUT_SECONDS = 3.0


def _database_ok(services: Services) -> bool:
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def _temporal_ok(services: Services) -> bool:
    try:
        client = await services.temporal.client()
        return await asyncio.wait_for(client.service_client.check_health(), HEALTH_TIMEOUT_SECONDS)
    except Exception:
        return False


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    temporal: Literal["ok", "unreachable"]


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database or Temporal is unreachable"}},
)
async def healthz(services: ServicesDep) -> JSONResponse:
    database_ok = await asyncio.to_thread(_database_ok, services)
    temporal_ok = await _temporal_ok(services)
    body = {
        "status": "ok" if database_ok and temporal_ok else "unavailable",
        "database": "ok" if database_ok else "unreachable",
        "temporal": "ok" if temporal_ok else "unreachable",
    }
    return JSONResponse(body, status_code=200 if database_ok and temporal_ok else 503)

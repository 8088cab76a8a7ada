"""``GET /metrics``: the API process's Prometheus metrics (no auth; bind where operators reach)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from observability.api_metrics import scrape_registry

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def metrics() -> Response:
    """Request durations and debits, summed over the API's processes, in Prometheus text format."""
    return Response(generate_latest(scrape_registry()), media_type=CONTENT_TYPE_LATEST)

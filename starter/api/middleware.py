"""Every API request: a request id, an access-log line and its duration in the histogram.

The request id comes from asgi-correlation-id (an incoming ``X-Request-ID`` is kept
when it looks like an id, else a new one is made; either is echoed in the response).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import MutableMapping
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.logs import request_scope
from observability.metrics import HTTP_DURATION

access_log = logging.getLogger("sms_addon.access")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# Probes and scrapes arrive every few seconds; their lines would drown the rest.
QUIET_PATHS = frozenset({"/healthz", "/metrics"})
# In a request's scope: what failed, when something did (``note_fault``).
FAULT = "sms_addon.fault"
FAULT_CHARS = 200


def note_fault(scope: MutableMapping[str, Any], part: str, exc: BaseException) -> None:
    """Say on the request's access log line what failed: the part ("database",
    "temporal", ...), the exception's class and the first line of its message. Only
    the first: the later lines of a database error hold the statement and its
    parameters, which may carry a customer's data."""
    lines = str(exc).strip().splitlines()
    scope[FAULT] = f"{part}: {type(exc).__name__}: {lines[0] if lines else ''}"[:FAULT_CHARS]


def note_refusal(scope: MutableMapping[str, Any], code: str, message: str) -> None:
    """Say on the access log line that a workflow itself refused the request, with the
    refusal's stable code and why (e.g. a database outage it waits out): the client's
    answer, not a failure of the part that carried it."""
    lines = message.strip().splitlines()
    scope[FAULT] = f"workflow: {code}: {lines[0] if lines else ''}"[:FAULT_CHARS]


def sane_request_id(value: str) -> bool:
    return _SANE_REQUEST_ID.fullmatch(value) is not None


class ObservedRequests:
    """Pure ASGI (no BaseHTTPMiddleware) so the context it sets reaches the endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = request_scope.set(scope)
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            elapsed = time.perf_counter() - started
            # The route template (…/purchases/{purchase_id}), set by routing; never the
            # raw path, whose ids would make one series per purchase.
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_DURATION.labels(route, scope["method"], str(status)).observe(elapsed)
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
            }
            line = "%s %s %d %.1f ms"
            args = [scope["method"], scope["path"], status, elapsed * 1000]
            level = logging.DEBUG if scope["path"] in QUIET_PATHS else logging.INFO
            if (fault := scope.get(FAULT)) is not None:
                fields["fault"] = fault
                line, level = f"{line} (%s)", logging.WARNING
                args.append(fault)
            access_log.log(level, line, *args, extra=fields)
            request_scope.reset(token)


def install_middleware(app: FastAPI) -> None:
    app.add_middleware(ObservedRequests)
    # Added last, so outermost: the id exists before the access line is written.
    app.add_middleware(
        CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER, validator=sane_request_id
    )

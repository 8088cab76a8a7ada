"""The answer to a request whose handling raised, on every path (API.md Conventions:
503 ``service_unavailable`` when the database or Temporal cannot act; never a 500,
never text/plain, never a dropped connection):

- the database cannot act (``store.outages``: unreachable, a lost connection, a
  missing table, ...) or Temporal is unreachable: 503, and the access log line
  names the part and the driver's one-line reason;
- anything else is a bug. It answers the same 503 (the contract has no 500), and its
  traceback is logged at ERROR, so that it is fixed rather than retried away.

The billing page's paths get the page's problem page with the same status instead
of JSON. A fault after the response has started cannot be answered any more: it is
raised on, and the server ends the response.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request, Response
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import ErrorCode
from starter.api.errors import error_response
from starter.api.middleware import note_fault
from store.outages import is_outage

log = logging.getLogger("sms_addon.faults")

DATABASE, TEMPORAL, UNEXPECTED = "database", "temporal", "unexpected"
MESSAGES = {
    DATABASE: "The database is unavailable; try again soon.",
    TEMPORAL: "Temporal is unreachable; try again soon.",
    UNEXPECTED: "The service could not answer this request; try again soon.",
}
# Temporal's answers that mean it cannot act now; any other is a bug in the call.
TEMPORAL_OUTAGES = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)

PageAnswer = Callable[[Request], Response]


def part_of(exc: BaseException) -> tuple[str, BaseException]:
    """What failed, and the error that says why (a database's: its driver's own, whose
    message holds no statement)."""
    if is_outage(exc):
        assert isinstance(exc, DBAPIError)
        return DATABASE, exc.orig or exc
    if isinstance(exc, RPCError) and exc.status in TEMPORAL_OUTAGES:
        return TEMPORAL, exc
    return UNEXPECTED, exc


class AnswerFaults:
    """Pure ASGI, inside the access log's middleware, so that the line it writes has
    the status the client got and the fault noted in the scope."""

    def __init__(self, app: ASGIApp, page_prefix: str, page: PageAnswer) -> None:
        self.app = app
        self.page_prefix = page_prefix
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            part, reason = part_of(exc)
            note_fault(scope, part, reason)
            if part == UNEXPECTED:
                log.error("%s %s raised", scope["method"], scope["path"], exc_info=exc)
            if started:
                raise
            response = self._answer(scope, part)
            await response(scope, receive, send)

    def _answer(self, scope: Scope, part: str) -> Response:
        if scope["path"].startswith(self.page_prefix):
            return self.page(Request(scope))
        return error_response(ErrorCode.SERVICE_UNAVAILABLE, MESSAGES[part])


def install_faults(app: FastAPI, page_prefix: str, page: PageAnswer) -> None:
    """Answer faults inside the access log's middleware: install before it."""
    app.add_middleware(AnswerFaults, page_prefix=page_prefix, page=page)

"""API.md's error format: ``{"error": {"code", "message", ...details}}`` with stable codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from application.errors import HTTP_STATUS, ApiError, WorkflowRefusal
from domain.errors import DomainError, ErrorCode
from starter.api.middleware import note_fault, note_refusal


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """API.md's error format (optional detail fields may follow ``message``)."""

    error: ErrorDetail


def error_responses(*codes: ErrorCode) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the refusals a route can answer, grouped by status."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(HTTP_STATUS[code], []).append(code.value)
    return {
        status: {"model": ErrorBody, "description": " or ".join(dict.fromkeys(names))}
        for status, names in sorted(by_status.items())
    }


def error_response(code: ErrorCode, message: str, **details: Any) -> JSONResponse:
    body: dict[str, Any] = {"code": code.value, "message": message, **details}
    return JSONResponse({"error": body}, status_code=HTTP_STATUS[code])


_STATUS_CODES = {
    401: ErrorCode.UNAUTHENTICATED,
    404: ErrorCode.NOT_FOUND,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}
INVALID_JSON = "The body is not valid JSON."


def _field(loc: Sequence[Any]) -> str:
    """``("body", "item", "tier")`` → ``item.tier``; path, query and header keep their prefix."""
    return ".".join(str(part) for part in loc if part != "body") or "body"


def invalid_request(errors: Sequence[Any]) -> JSONResponse:
    """422 naming each field that failed, never a position in the raw bytes."""
    if any(err.get("type") == "json_invalid" for err in errors):
        details = [{"field": "body", "message": INVALID_JSON}]
        return error_response(ErrorCode.INVALID_REQUEST, INVALID_JSON, details=details)
    details = [{"field": _field(err["loc"]), "message": err["msg"]} for err in errors]
    fields = ", ".join(dict.fromkeys(d["field"] for d in details))
    return error_response(
        ErrorCode.INVALID_REQUEST, f"The request is not valid: {fields}.", details=details
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        unavailable = exc.code is ErrorCode.SERVICE_UNAVAILABLE
        if unavailable and isinstance(exc, WorkflowRefusal):
            # The workflow's own answer (e.g. a database outage it waits out), by its code.
            note_refusal(request.scope, exc.code.value, exc.message)
        elif unavailable and exc.__cause__ is not None:
            # A Temporal call that timed out or was refused (application/temporal_calls.py).
            note_fault(request.scope, "temporal", exc.__cause__)
        return error_response(exc.code, exc.message, **exc.details)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_request(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code)
        if code is None:
            return JSONResponse(
                {"error": {"code": "http_error", "message": str(exc.detail)}},
                status_code=exc.status_code,
            )
        return error_response(code, str(exc.detail))

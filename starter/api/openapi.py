"""The OpenAPI document as the service really answers (API.md Conventions).

Routes list their own refusals (``error_responses``); what every operation of a
kind can answer is added here once, from what the operation is:

- it needs a bearer token (FastAPI lists ``security``) → 401 ``unauthenticated``;
  under ``/v1/accounts/{account_id}`` also 404 (another account's path);
- it has parameters or is a POST/PUT/PATCH → 422 in API.md's error format (not
  FastAPI's own): a body that is not JSON answers 422 even where none is expected;
- it is a POST/PUT/PATCH → 413 ``payload_too_large`` (starter/api/body_guard.py);
- it takes an ``Idempotency-Key`` → 409 ``conflict``;
- every operation but ``/healthz`` (which answers its own 503) → 503
  ``service_unavailable``: the database or Temporal cannot act (starter/api/faults.py);
- a field marked ``CATALOGUE_ENUM`` lists the loaded catalogue's values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from application.errors import HTTP_STATUS
from domain.catalogue import Catalogue
from domain.errors import ErrorCode
from domain.inputs import CATALOGUE_ENUM
from starter.api.body_guard import BODY_METHODS
from starter.api.errors import ErrorBody
from starter.api.registration_example import EXAMPLE_REGISTRATION

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
_ACCOUNT_PATH = "/v1/accounts/{account_id}"
HEALTH_PATH = "/healthz"


def _catalogue_values(catalogue: Catalogue) -> dict[str, list[str]]:
    return {"countries": [country.code for country in catalogue.countries]}


def _error(code: ErrorCode, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or code.value,
        "content": {"application/json": {"schema": ERROR_REF}},
    }


def _add(responses: dict[str, Any], code: ErrorCode) -> None:
    """List ``code`` under its status, next to whatever the route listed there."""
    status, name = str(HTTP_STATUS[code]), code.value
    entry = responses.get(status)
    if entry is None:
        responses[status] = _error(code)
        return
    entry.setdefault("content", {"application/json": {"schema": ERROR_REF}})
    if name not in entry.get("description", ""):
        entry["description"] = f"{entry['description']} or {name}"


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        _add(responses, ErrorCode.UNAUTHENTICATED)
        if path.startswith(_ACCOUNT_PATH):
            _add(responses, ErrorCode.NOT_FOUND)
    takes_body = method in BODY_METHODS
    if parameters or takes_body:
        listed = responses.get("422", {}).get("description", "")
        responses["422"] = _error(
            ErrorCode.INVALID_REQUEST, listed if "invalid_request" in listed else None
        )
    if takes_body:
        _add(responses, ErrorCode.PAYLOAD_TOO_LARGE)
    if any(p.get("name") == "Idempotency-Key" for p in parameters):
        _add(responses, ErrorCode.CONFLICT)
    if path != HEALTH_PATH:
        _add(responses, ErrorCode.SERVICE_UNAVAILABLE)


def _fill_catalogue_enums(node: Any, values: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        source = node.pop(CATALOGUE_ENUM, None)
        if source is not None:
            node["enum"] = values[source]
            node.pop("pattern", None)
        for child in node.values():
            _fill_catalogue_enums(child, values)
    elif isinstance(node, list):
        for child in node:
            _fill_catalogue_enums(child, values)


def complete(document: dict[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _complete_operation(path, method, operation)
    for operations in document.get("webhooks", {}).values():
        for operation in operations.values():
            # FastAPI's validation answer: the receiver's answers are what the route lists.
            operation.get("responses", {}).pop("422", None)
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERRORS:
        schemas.pop(name, None)
    error_schemas = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schemas.pop("$defs", {}))
    schemas["ErrorBody"] = error_schemas
    _fill_catalogue_enums(document, _catalogue_values(catalogue))
    if "RegistrationDetails" in schemas:
        schemas["RegistrationDetails"]["examples"] = [EXAMPLE_REGISTRATION]
    return document


def install_openapi(app: FastAPI, catalogue: Callable[[], Catalogue]) -> None:
    """Serve the completed document; ``catalogue`` is read when it is first asked for."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
                webhooks=app.webhooks.routes,
            )
            app.openapi_schema = complete(document, catalogue())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""Every request body is bounded and, when it claims to be JSON, is JSON (API.md
Conventions): read at most the limit, refuse more with 413 ``payload_too_large``,
and answer 422 "The body is not valid JSON." for bytes that are not UTF-8 JSON or
nest absurdly deep. Only then does the application see the body, so no parser
error, recursion or megabyte string reaches a route, the database or a workflow.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import ErrorCode
from starter.api.errors import INVALID_JSON, error_response

KIB = 1024
MAX_BODY_BYTES = 64 * KIB
# A campaign's batch of up to 1,000 messages.
MAX_BATCH_BODY_BYTES = 2 * KIB * KIB
BATCH_PATH_SUFFIX = "/sms/usage/batch"
# Routes read bodies only of these; a body sent with a GET is never read, so never bounded.
BODY_METHODS = frozenset({"post", "put", "patch"})
# Deeper than any request model; a body nested deeper is refused before it is parsed again.
MAX_JSON_DEPTH = 32


def body_limit(path: str) -> int:
    return MAX_BATCH_BODY_BYTES if path.endswith(BATCH_PATH_SUFFIX) else MAX_BODY_BYTES


def _claims_json(headers: Headers) -> bool:
    """A JSON content type, or none (FastAPI then refuses the body, but bytes that
    are not JSON at all get the one answer API.md gives them)."""
    content_type = headers.get("content-type")
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def is_json(body: bytes) -> bool:
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return _depth(value) <= MAX_JSON_DEPTH


def _too_large(limit: int) -> Any:
    return error_response(
        ErrorCode.PAYLOAD_TOO_LARGE, f"The body is larger than {limit // KIB} KiB."
    )


class BodyGuard:
    """ASGI middleware: bounded, well-formed request bodies, read once and replayed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"].lower() not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = body_limit(scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _claims_json(headers) and not is_json(body):
            invalid = error_response(
                ErrorCode.INVALID_REQUEST,
                INVALID_JSON,
                details=[{"field": "body", "message": INVALID_JSON}],
            )
            await invalid(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # only a disconnect can follow
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay

"""A refusal the application layer answers: a stable error code, one human sentence and
optional detail fields. The HTTP layer and the page turn it into their own answers."""

from __future__ import annotations

from typing import Any

from domain.errors import HTTP_STATUS, ErrorCode


class ApiError(Exception):
    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status_code(self) -> int:
        return HTTP_STATUS[self.code]

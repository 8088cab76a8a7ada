"""A refusal the application layer answers: a stable error code, one human sentence and
optional detail fields. The HTTP layer and the page turn it into their own answers."""

from __future__ import annotations

from typing import Any

from domain.errors import ErrorCode

# The HTTP status each code answers with (docs/api.md).
HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.CONFLICT: 409,
    ErrorCode.BILLING_PERMISSION_REQUIRED: 403,
    ErrorCode.PLAN_NOT_ELIGIBLE: 409,
    ErrorCode.ADDON_ALREADY_ACTIVE: 409,
    ErrorCode.ADDON_NOT_ACTIVE: 409,
    ErrorCode.ADDON_NOT_CANCELLING: 409,
    ErrorCode.NOT_PAST_DUE: 409,
    ErrorCode.PAYMENT_DECLINED: 402,
    ErrorCode.QUOTE_EXPIRED: 409,
    ErrorCode.NOT_AWAITING_CONFIRMATION: 409,
    ErrorCode.INSUFFICIENT_CREDITS: 409,
    ErrorCode.REGISTRATION_REQUIRED: 409,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.PAYMENT_PROVIDER_ERROR: 502,
}


class ApiError(Exception):
    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status_code(self) -> int:
        return HTTP_STATUS[self.code]


class WorkflowRefusal(ApiError):
    """A refusal a workflow answered itself (an update's validator or handler), with its
    own code: an answer, not a failure of Temporal, even when it is 503 (a subscription
    waiting out a database outage, or collecting a renewal's payment)."""

"""Stable refusal codes shared by workflows, activities and the API.

A workflow or activity refuses with ``ApplicationError(message, type=code,
non_retryable=True)`` (``boundary.errors`` maps exceptions to it); the API maps
the ``type`` to the status of API.md with ``HTTP_STATUS``.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "unauthenticated"
    NOT_FOUND = "not_found"
    INVALID_REQUEST = "invalid_request"
    CONFLICT = "conflict"
    BILLING_PERMISSION_REQUIRED = "billing_permission_required"
    PLAN_NOT_ELIGIBLE = "plan_not_eligible"
    ADDON_ALREADY_ACTIVE = "addon_already_active"
    ADDON_NOT_ACTIVE = "addon_not_active"
    ADDON_NOT_CANCELLING = "addon_not_cancelling"
    NOT_PAST_DUE = "not_past_due"
    PAYMENT_DECLINED = "payment_declined"
    QUOTE_EXPIRED = "quote_expired"
    NOT_AWAITING_CONFIRMATION = "not_awaiting_confirmation"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    REGISTRATION_REQUIRED = "registration_required"
    SERVICE_UNAVAILABLE = "service_unavailable"
    PAYLOAD_TOO_LARGE = "payload_too_large"


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
}


class DomainError(Exception):
    """A business refusal raised by store-level code outside workflows."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

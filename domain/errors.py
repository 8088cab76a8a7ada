"""Stable refusal codes shared by workflows, activities and the API.

A workflow or activity refuses with ``ApplicationError(message, type=code,
non_retryable=True)`` (``boundary.errors`` maps exceptions to it); the API maps
the ``type`` to the status of API.md with ``application.errors.HTTP_STATUS``.
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
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"


class DomainError(Exception):
    """A business refusal raised by store-level code outside workflows."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

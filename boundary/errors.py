"""One error mapping, both directions.

Worker side: :func:`to_application_error` decides, once for every activity,
whether an exception is a business refusal or a permanent fault (non-retryable,
typed) or a transient one (retryable). API and workflow side: :func:`refusal_of`
finds the typed refusal inside whatever Temporal wrapped it in,
:func:`error_code_of` names it as an :class:`~domain.errors.ErrorCode`, and
:func:`raise_refusal` raises it as a workflow update's answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NoReturn

from temporalio.exceptions import ApplicationError, FailureError

from domain.errors import DomainError, ErrorCode
from payments.gateway import GatewayRejected, GatewayUnavailable, UnknownPayment


class Fault(StrEnum):
    """Failure types that are not refusals a customer sees, but that a workflow or an
    operator must tell apart."""

    GRANT_FAILED = "grant_failed"  # the credits could not be granted: refund the payment
    REFUND_FAILED = "refund_failed"  # nor could the payment be refunded: an operator must
    INTERRUPTED = "interrupted"  # its workflow was lost before any money moved
    UNKNOWN_PAYMENT = "unknown_payment"  # a refund named a payment never captured
    GATEWAY_REJECTED = "gateway_rejected"  # the provider refused the request (key, params)
    MISSING_RECORD = "missing_record"  # a row the step needs does not exist
    GATEWAY_UNAVAILABLE = "gateway_unavailable"  # retryable: the gateway's answer was lost
    DATABASE_UNAVAILABLE = "database_unavailable"  # retryable
    INTERNAL = "internal_error"  # retryable: a defect a deploy can fix; the step resumes then


# Failure types that no retry can change: every retry policy lists them.
PERMANENT_TYPES: tuple[str, ...] = (
    *(code.value for code in ErrorCode if code is not ErrorCode.SERVICE_UNAVAILABLE),
    Fault.GRANT_FAILED.value,
    Fault.UNKNOWN_PAYMENT.value,
    Fault.GATEWAY_REJECTED.value,
    Fault.MISSING_RECORD.value,
)


def refusal(
    code: ErrorCode | Fault, message: str, details: dict[str, Any] | None = None
) -> ApplicationError:
    """A permanent, typed failure: never retried, mapped by the API to API.md's code;
    ``details``: fields the API's error answer carries beside the message."""
    if details is None:
        return ApplicationError(message, type=code.value, non_retryable=True)
    return ApplicationError(message, details, type=code.value, non_retryable=True)


def to_application_error(error: Exception) -> ApplicationError:
    """The activity boundary: every exception leaves an activity as an ApplicationError
    whose ``type`` says what it is and whose ``non_retryable`` says, on purpose, whether
    trying again can help."""
    if isinstance(error, ApplicationError):
        return error
    if isinstance(error, DomainError):
        return refusal(error.code, error.message)
    if isinstance(error, UnknownPayment):
        return refusal(Fault.UNKNOWN_PAYMENT, str(error))
    if isinstance(error, GatewayRejected):
        return refusal(Fault.GATEWAY_REJECTED, str(error))
    if isinstance(error, LookupError):
        return refusal(Fault.MISSING_RECORD, str(error))
    if isinstance(error, GatewayUnavailable):  # PaymentUnknown too: settled by the key
        return ApplicationError(str(error), type=Fault.GATEWAY_UNAVAILABLE.value)
    if _is_database_outage(error):
        return ApplicationError(str(error), type=Fault.DATABASE_UNAVAILABLE.value)
    return ApplicationError(f"{type(error).__name__}: {error}", type=Fault.INTERNAL.value)


def _is_database_outage(error: Exception) -> bool:
    # Imported here so that workflow code, which imports this module, never loads SQLAlchemy.
    from sqlalchemy.exc import DBAPIError, OperationalError

    return isinstance(error, OperationalError | DBAPIError)


def refusal_of(error: BaseException | None) -> ApplicationError | None:
    """The permanent, typed ApplicationError behind ``error`` (an ActivityError, an
    update or workflow failure), or None when the failure was not one. A workflow that
    cannot act now (its database is out) refuses as ``service_unavailable``: a refusal
    too, whose caller tries again later."""
    while error is not None:
        if isinstance(error, ApplicationError) and _is_refusal(error):
            return error
        if not isinstance(error, FailureError):
            return None
        error = error.cause
    return None


def _is_refusal(error: ApplicationError) -> bool:
    if error.type == ErrorCode.SERVICE_UNAVAILABLE.value:
        return error.non_retryable
    return error.type in PERMANENT_TYPES


def raise_refusal(error: FailureError) -> NoReturn:
    """Workflow side: an activity's permanent, typed failure, raised as the refusal an
    update answers; any other failure as it came."""
    found = refusal_of(error)
    if found is None:
        raise error
    raise found from error


# Faults the API answers with a code of their own, wherever they surface: a request
# the provider refused (not the card) is its error, never the service's (API.md, 502).
FAULT_CODES: dict[str, ErrorCode] = {
    Fault.GATEWAY_REJECTED.value: ErrorCode.PAYMENT_PROVIDER_ERROR,
}


def error_code_of(error: BaseException | None) -> ErrorCode | None:
    """The API.md code of a refusal, or None when the failure is not a customer refusal."""
    found = refusal_of(error)
    if found is None or found.type is None:
        return None
    if found.type in FAULT_CODES:
        return FAULT_CODES[found.type]
    try:
        return ErrorCode(found.type)
    except ValueError:
        return None


def refusal_details(error: BaseException | None) -> dict[str, Any]:
    """The fields a refusal carries for the API's error answer (:func:`refusal`'s
    ``details``); none for any other failure."""
    found = refusal_of(error)
    if found is None or not found.details or not isinstance(found.details[0], dict):
        return {}
    return dict(found.details[0])

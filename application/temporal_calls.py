"""The API's side of the Temporal boundary: every call a route makes to a workflow
goes through :func:`answer`, which bounds it by ``SMS_API_WAIT_SECONDS`` and maps
what can go wrong to API.md's errors, in one place:

- the workflow refused (an update's validator or handler, a typed failure)
  → the refusal's own code (``boundary.errors.error_code_of``), e.g. 409, raised as
  :class:`~application.errors.WorkflowRefusal` with the fields the refusal carries (the
  access log names the code, not Temporal, even for a 503 the workflow answered); a
  request the payment provider refused, wherever it surfaces, → 502
  ``payment_provider_error``;
- no answer within the wait (no worker polling, a slow step) → 503
  ``service_unavailable``; the work goes on and can be read again;
- Temporal unreachable or refusing the request → 503 ``service_unavailable``;
- the workflow does not exist (it ended, or never ran) → :class:`WorkflowGone`,
  which the route answers from the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from application.context import Services
from application.errors import ApiError, WorkflowRefusal
from boundary.errors import error_code_of, refusal_details, refusal_of
from domain.errors import ErrorCode

T = TypeVar("T")


class WorkflowGone(Exception):
    """The workflow is not running (ended, or never started): its outcome is in the DB."""


def unavailable(message: str, **details: Any) -> ApiError:
    return ApiError(ErrorCode.SERVICE_UNAVAILABLE, message, **details)


async def answer(services: Services, call: Awaitable[T], pending: str, **details: Any) -> T:
    """The workflow's answer to ``call``; ``pending`` says what goes on after a 503."""
    try:
        return await asyncio.wait_for(call, services.settings.sms_api_wait_seconds)
    # The SDK turns wait_for's cancellation of an update call into its own error.
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise unavailable(pending, **details) from exc
    except WorkflowUpdateFailedError as exc:
        code = error_code_of(exc.cause)
        if code is None:
            raise
        found = refusal_of(exc.cause)
        message = found.message if found else str(exc.cause)
        carried = refusal_details(exc.cause)
        raise WorkflowRefusal(code, message, **{**carried, **details}) from exc
    except WorkflowAlreadyStartedError as exc:
        raise WorkflowGone() from exc
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise WorkflowGone() from exc
        raise unavailable("Temporal did not take the request; try again soon.", **details) from exc

"""The worker interceptor: every activity's exceptions mapped at one place, the
heartbeat of every activity that asks for one (``boundary.options.waited_on``), and
the account and purchase its input names bound to its log lines."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from boundary.errors import to_application_error
from observability.logs import activity_scope, ids_of_input


class ActivityErrorMapping(Interceptor):
    """Every exception an activity raises leaves it as a typed ApplicationError."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _MapErrors(next)


class _MapErrors(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        # Set in this activity's own task; a thread activity runs in a copy of its context.
        activity_scope.set(ids_of_input(input.args))
        timeout = activity.info().heartbeat_timeout
        # On the worker's event loop, beside the activity's thread: it stops beating only
        # when the activity ends or the process dies, which is what the timeout detects.
        beating = (
            asyncio.create_task(_beat(timeout, inspect.iscoroutinefunction(input.fn)))
            if timeout
            else None
        )
        try:
            return await super().execute_activity(input)
        except Exception as error:
            mapped = to_application_error(error)
            if mapped is error:
                raise
            raise mapped from error
        finally:
            if beating is not None:
                beating.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beating


async def _beat(timeout: timedelta, on_loop: bool) -> None:
    """Beat every third of the timeout; an activity quicker than that sends none (the
    SDK also throttles what it sends to 80 % of the timeout). A thread activity's
    heartbeat blocks until the event loop takes it, so it is sent from a thread."""
    while True:
        await asyncio.sleep(timeout.total_seconds() / 3)
        if on_loop:
            activity.heartbeat()
        else:
            await asyncio.to_thread(activity.heartbeat)

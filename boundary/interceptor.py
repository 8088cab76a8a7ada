"""The worker interceptor: every activity's exceptions mapped at one place, and every
regular activity heartbeating while it runs."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from boundary.errors import to_application_error
from boundary.options import HEARTBEAT_EVERY


class ActivityErrorMapping(Interceptor):
    """Every exception an activity raises leaves it as a typed ApplicationError; a
    regular activity heartbeats while it runs, so when its worker dies the attempt
    times out after ``heartbeat_timeout`` (seconds), not after its whole
    start-to-close, and another worker takes it over (DESIGN.md §5)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _MapErrors(next)


class _MapErrors(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        # The heartbeat runs on the worker's event loop, beside the activity's thread:
        # it stops only when the process (or the activity) does.
        beating = None if activity.info().is_local else asyncio.create_task(_beat())
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


async def _beat() -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY.total_seconds())
        activity.heartbeat()

"""The worker interceptor that maps every activity's exceptions at one place."""

from __future__ import annotations

from typing import Any

from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from boundary.errors import to_application_error


class ActivityErrorMapping(Interceptor):
    """Every exception an activity raises leaves it as a typed ApplicationError."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _MapErrors(next)


class _MapErrors(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception as error:
            mapped = to_application_error(error)
            if mapped is error:
                raise
            raise mapped from error

"""Permanent failures injected into workflows' steps, and what the server then holds:
stand-in activities that refuse for good, and the executions of one account as
Temporal's visibility lists them (the dev server's; the time-skipping server has none)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus

from boundary.errors import Fault, refusal

# Visibility is eventually consistent: a bound on waiting for it, not a timing assertion.
VISIBILITY_WAIT_SECONDS = 30.0
POLL_SECONDS = 0.2


def refusing(name: str, fault: Fault = Fault.MISSING_RECORD) -> Callable[..., Any]:
    """A stand-in for the activity ``name`` that refuses for good, as a step does when
    no retry can help (its row gone, the provider refusing the request)."""

    @activity.defn(name=name)
    def refuse(_: Any) -> None:
        raise refusal(fault, f"{name} refused for good (injected)")

    return refuse


async def closed_executions(client: Client, account_id: str) -> Counter[str]:
    """How the account's workflows ended, once visibility shows every one closed;
    asserts that every one completed: none failed, timed out or was terminated."""
    query = f'AccountId = "{account_id}"'
    seen: dict[str, WorkflowExecutionStatus | None] = {}
    deadline = asyncio.get_running_loop().time() + VISIBILITY_WAIT_SECONDS
    while True:
        seen = {
            f"{execution.workflow_type}/{execution.id}/{execution.run_id}": execution.status
            async for execution in client.list_workflows(query)
        }
        open_ = [key for key, status in seen.items() if status is WorkflowExecutionStatus.RUNNING]
        if seen and not open_:
            break
        assert asyncio.get_running_loop().time() < deadline, f"still open: {seen}"
        await asyncio.sleep(POLL_SECONDS)
    ended_badly = {key: status for key, status in seen.items() if status not in ENDED_WELL}
    assert not ended_badly, ended_badly
    return Counter(key.split("/", 1)[0] for key in seen)


ENDED_WELL = {WorkflowExecutionStatus.COMPLETED, WorkflowExecutionStatus.CONTINUED_AS_NEW}

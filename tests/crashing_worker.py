"""A real worker process that kills itself (SIGKILL) at one step: before the step's
activity does anything, or after it has done its work (committed, charged) but before
its answer reaches Temporal. The fault drills (tests/test_fault_drills.py) start it.

Usage: python -m tests.crashing_worker TEMPORAL_ADDRESS TASK_QUEUE DATABASE_URL STEP WHEN
(WHEN is ``before`` or ``after``; ``never`` runs the real worker, for drills that kill
it from outside at a random moment).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

import worker
from activities import all_activities
from store.db import make_engine, make_session_factory
from tests.support import activity_deps

READY = "worker ready"


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def dying(real: Callable[..., Any], after: bool) -> Callable[..., Any]:
    """``real`` under its own name, killing the process before or after it runs."""
    if inspect.iscoroutinefunction(real):

        @functools.wraps(real)
        async def stand_in_async(*args: Any) -> Any:
            if after:
                await real(*args)
            _die()

        return _as_activity(real, stand_in_async)

    @functools.wraps(real)
    def stand_in(*args: Any) -> Any:
        if after:
            real(*args)
        _die()

    return _as_activity(real, stand_in)


def _as_activity(real: Callable[..., Any], stand_in: Callable[..., Any]) -> Callable[..., Any]:
    # functools.wraps copied the real one's activity definition too; it gets its own.
    for attribute in [name for name in vars(stand_in) if name.startswith("__temporal")]:
        delattr(stand_in, attribute)
    return activity.defn(name=worker.activity_name(real))(stand_in)


async def main(address: str, task_queue: str, database_url: str, step: str, when: str) -> None:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    deps = activity_deps(client, make_session_factory(make_engine(database_url)))
    stand_ins = []
    if when != "never":
        real = next(a for a in all_activities(deps) if worker.activity_name(a) == step)
        stand_ins.append(dying(real, after=when == "after"))
    async with worker.build_worker(client, deps, task_queue, stand_ins=stand_ins):
        print(READY, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))

"""A real worker process that is killed (SIGKILL) the moment it starts granting credits:
the payment is captured, the grant never runs. Used by test_purchase_faults.py.

Usage: python -m tests.crashing_worker TEMPORAL_ADDRESS TASK_QUEUE DATABASE_URL
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

import worker
from domain.purchase import GrantRequest
from store.db import make_engine, make_session_factory
from tests.support import activity_deps

READY = "worker ready"


@activity.defn(name="grant_purchase")
def die_while_granting(_: GrantRequest) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def main(address: str, task_queue: str, database_url: str) -> None:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    deps = activity_deps(client, make_session_factory(make_engine(database_url)))
    crashing = worker.build_worker(client, deps, task_queue, stand_ins=[die_while_granting])
    async with crashing:
        print(READY, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))

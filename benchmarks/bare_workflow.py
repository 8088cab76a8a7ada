"""The purchase reference: a bare workflow of four no-op activities in a row on the
same Temporal server, with a worker in the benchmark process. Kept apart from the
database code so the workflow sandbox imports nothing else."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from benchmarks.load import Measured, closed_loop


@activity.defn(name="bench_noop")
async def noop(step: int) -> int:
    return step


@workflow.defn(name="BenchBareFour")
class BareFour:
    """The purchase workflow's skeleton: four activities in a row, nothing else."""

    @workflow.run
    async def run(self) -> int:
        total = 0
        for step in range(4):
            total += await workflow.execute_activity(
                noop, step, start_to_close_timeout=timedelta(seconds=10)
            )
        return total


async def bare_workflows(client: Client, runs: int, concurrency: int) -> Measured:
    """``runs`` bare workflows, ``concurrency`` at a time, on a worker in this process."""
    queue = f"bench-bare-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[BareFour], activities=[noop]):

        async def one(n: int) -> bool:
            await client.execute_workflow(
                BareFour.run, id=f"bench-bare-{queue}-{n}", task_queue=queue
            )
            return True

        await one(-1)  # warm the worker's caches
        return await closed_loop(concurrency, runs, one)

"""The Temporal servers of the suite, each on reserved ports (tests/ports.py).

Every port a server opens is passed explicitly; the dev server's remaining
internal services (history, matching, worker) cannot be set from its CLI and take
ports from the ephemeral range, which the reserved band never overlaps.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.ports import start_on_reserved_ports_async
from tests.support import TEMPORAL_CLI, TEMPORAL_TEST_SERVER
from workflows import search_attributes


async def start_dev_server(extra_args: Sequence[str] = ()) -> WorkflowEnvironment:
    """The real Temporal dev server (the one `make run` starts), in memory, headless."""

    async def start(ports: list[int]) -> WorkflowEnvironment:
        grpc, http, metrics = ports
        return await WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter,
            dev_server_existing_path=TEMPORAL_CLI,
            search_attributes=list(search_attributes.ALL),
            port=grpc,
            ui=False,
            dev_server_extra_args=[
                "--http-port", str(http), "--metrics-port", str(metrics), *extra_args
            ],
        )  # fmt: skip

    return await start_on_reserved_ports_async(3, start)


async def start_time_skipping_server() -> WorkflowEnvironment:
    """The Java time-skipping test server (one port)."""

    async def start(ports: list[int]) -> WorkflowEnvironment:
        return await WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter,
            test_server_existing_path=TEMPORAL_TEST_SERVER,
            port=ports[0],
        )

    return await start_on_reserved_ports_async(1, start)

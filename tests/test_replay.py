"""Every recorded history in tests/histories replays against today's workflow code.

A change that would make an old history take another path must be guarded with
``workflow.patched``. To re-record: ``RECORD_HISTORIES=1 make pytest`` (the tests
that call ``keep_history`` overwrite their files), then commit tests/histories.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

import worker
from tests.sandboxed_workflows import SandboxedPurchase, SandboxedSubscription
from tests.support import HISTORIES

RECORDED = sorted(HISTORIES.rglob("*.json"))


@pytest.mark.parametrize("path", RECORDED, ids=[str(p.relative_to(HISTORIES)) for p in RECORDED])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=worker.WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)


# The workflows that run unsandboxed, each with the sandboxed copy its histories replay in.
UNSANDBOXED = [
    *((path, SandboxedSubscription) for path in (HISTORIES / "subscription").rglob("*.json")),
    *((path, SandboxedPurchase) for path in (HISTORIES / "purchase").glob("*.json")),
]


@pytest.mark.parametrize(
    ("path", "sandboxed"),
    sorted(UNSANDBOXED),
    ids=[str(path.relative_to(HISTORIES)) for path, _ in sorted(UNSANDBOXED)],
)
async def test_unsandboxed_workflows_histories_replay_in_the_sandbox(
    path: Path, sandboxed: type
) -> None:
    """These workflows run unsandboxed; their code still passes the sandbox."""
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[sandboxed], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)

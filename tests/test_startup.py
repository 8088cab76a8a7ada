"""`sms-addon api` and `sms-addon worker` refuse to start with ONE line saying what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.support import migrated_engine

REFUSAL_TIMEOUT_SECONDS = 60


def refusal(command: str, cwd: Path, **env: str) -> list[str]:
    """Run the real command; it must exit 1 at once. Returns its stderr lines."""
    result = subprocess.run(
        [sys.executable, "-m", "starter.cli", command],
        cwd=cwd,
        env={**os.environ, "API_PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=REFUSAL_TIMEOUT_SECONDS,
    )
    assert result.returncode == 1, result
    assert result.stdout == ""
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("command", ["api", "worker"])
def test_schema_behind(tmp_path, command):
    lines = refusal(command, tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert len(lines) == 1, lines
    assert "run `sms-addon migrate`" in lines[0]


@pytest.mark.parametrize("command", ["api", "worker"])
def test_invalid_catalogue(tmp_path, command):
    url = f"sqlite:///{tmp_path / 'sms.db'}"
    migrated_engine(url).dispose()
    bad = tmp_path / "catalogue.toml"
    bad.write_text('currency = "USD"\n', encoding="utf-8")
    lines = refusal(command, tmp_path, DATABASE_URL=url, SMS_CATALOGUE_PATH=str(bad))
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"Invalid catalogue: {bad}: ")
    assert "SMS_CATALOGUE_PATH" in lines[0]


def test_worker_without_temporal(tmp_path):
    url = f"sqlite:///{tmp_path / 'sms.db'}"
    migrated_engine(url).dispose()
    address = f"127.0.0.1:{free_port()}"
    lines = refusal("worker", tmp_path, DATABASE_URL=url, TEMPORAL_ADDRESS=address)
    assert len(lines) == 1, lines
    assert lines[0].startswith("Cannot connect to Temporal") and "TEMPORAL_ADDRESS" in lines[0]


def test_api_without_database_server(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone"
    lines = refusal("api", tmp_path, DATABASE_URL=url)
    assert len(lines) == 1, lines
    assert lines[0].startswith("Cannot open the database") and "DATABASE_URL" in lines[0]

"""The real `sms-addon dev` (what `make run` runs), end to end, on ports of its own.

First run: migrates, starts Temporal, the worker and the API, seeds the demo through
the admin API; SIGINT then stops every child. Second run: keeps the data and does
not seed again; a child that dies takes the stack down with a non-zero exit.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from starter.demo import DEMO_ACCOUNTS
from starter.security import hash_token
from store.db import make_engine, make_session_factory
from store.models import Account, ApiToken, User
from tests.ports import free_port

READY_LINE = "Ctrl-C stops everything"
START_TIMEOUT_SECONDS = 45.0
STOP_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.2
# Settings and envconfig variables of a developer's shell that would point the stack elsewhere.
FOREIGN_ENV = ("DATABASE_URL", "SMS_ADMIN_TOKEN", "SMS_WEBHOOK_SECRET", "TEMPORAL_ADDRESS")


@dataclass
class Stack:
    process: subprocess.Popen[str]
    output: Path
    api_url: str
    ui_url: str
    worker_metrics_url: str

    def text(self) -> str:
        return self.output.read_text()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while READY_LINE not in self.text():
            assert self.process.poll() is None, f"sms-addon dev exited:\n{self.text()}"
            assert time.monotonic() < deadline, f"not ready in time:\n{self.text()}"
            time.sleep(POLL_SECONDS)


@contextmanager
def dev_stack(workdir: Path, run: int) -> Iterator[Stack]:
    api_port, ui_port, metrics_port = free_port(), free_port(), free_port()
    env = {name: value for name, value in os.environ.items() if name not in FOREIGN_ENV}
    env.update(
        API_PORT=str(api_port),
        SMS_DEV_TEMPORAL_PORT=str(free_port()),
        SMS_DEV_TEMPORAL_UI_PORT=str(ui_port),
        SMS_WORKER_METRICS_PORT=str(metrics_port),
        PYTHONUNBUFFERED="1",
    )
    output = workdir / f"dev-{run}.out"
    with output.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "starter.cli", "dev"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    stack = Stack(
        process,
        output,
        f"http://localhost:{api_port}",
        f"http://localhost:{ui_port}",
        f"http://localhost:{metrics_port}/metrics",
    )
    try:
        yield stack
    finally:  # a failed test must not leave a stack behind either
        leftovers = descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in alive(leftovers):
            os.kill(pid, signal.SIGKILL)


def process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid``, so a reused pid is not mistaken for ours."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (FileNotFoundError, ProcessLookupError):
        return None


def descendants(pid: int) -> dict[int, str]:
    """Every live process below ``pid``: {pid: start time}."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            parents[int(entry.name)] = int(fields[1])
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and (start := process_start(child)) is not None:
                found[child] = start
                frontier.append(child)
    return found


def alive(processes: dict[int, str]) -> dict[int, str]:
    return {pid: start for pid, start in processes.items() if process_start(pid) == start}


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")


def check_seed(data: Path) -> dict[str, str]:
    """The demo accounts and users exist, and each stored token is a valid one."""
    engine = make_engine(f"sqlite:///{data / 'sms-addon.db'}")
    try:
        with make_session_factory(engine)() as session:
            accounts = {a.id: a for a in session.scalars(select(Account))}
            users = {(u.account_id, u.user_id) for u in session.scalars(select(User))}
            hashes = set(session.scalars(select(ApiToken.token_hash)))
    finally:
        engine.dispose()
    assert set(accounts) == {a.account_id for a in DEMO_ACCOUNTS}
    assert {a.plan for a in accounts.values()} == {"starter", "plus", "professional", "enterprise"}
    assert "annual" in {a.billing_cycle for a in accounts.values()}
    tokens: dict[str, str] = json.loads((data / "demo.json").read_text())["tokens"]
    assert {tuple(key.split("/")) for key in tokens} == users
    assert {hash_token(token) for token in tokens.values()} <= hashes
    return tokens


def test_make_run_stack(tmp_path: Path):
    data = tmp_path / ".data"
    with dev_stack(tmp_path, run=1) as stack:
        stack.wait_ready()
        health = httpx.get(f"{stack.api_url}/healthz", timeout=5)
        assert health.status_code == 200, health.text
        assert health.json() == {"status": "ok", "database": "ok", "temporal": "ok"}
        assert httpx.get(stack.ui_url, timeout=5).status_code == 200
        assert httpx.get(f"{stack.api_url}/docs", timeout=5).status_code == 200
        assert f"{stack.worker_metrics_url} (worker)" in stack.text()
        assert "sms_http_request_duration_seconds" in httpx.get(f"{stack.api_url}/metrics").text
        worker_metrics = httpx.get(stack.worker_metrics_url, timeout=5).text
        assert "temporal_" in worker_metrics and "sms_credits_granted" in worker_metrics
        tokens = check_seed(data)
        for private in ("admin-token", "webhook-secret", "demo.json"):
            assert stat.S_IMODE((data / private).stat().st_mode) == 0o600, private
        assert "seeded now" in stack.text()
        assert all(token in stack.text() for token in tokens.values())
        children = descendants(stack.process.pid)
        commands = " ".join(command_line(pid) for pid in children)
        assert "server start-dev" in commands and "worker" in commands and "api" in commands
        stack.process.send_signal(signal.SIGINT)
        assert stack.process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0, stack.text()
        assert alive(children) == {}, [command_line(pid) for pid in alive(children)]

    with dev_stack(tmp_path, run=2) as stack:
        stack.wait_ready()
        assert "seeded on an earlier run" in stack.text()
        assert check_seed(data) == tokens
        children = descendants(stack.process.pid)
        worker = next(pid for pid in children if command_line(pid).endswith("worker "))
        os.kill(worker, signal.SIGKILL)
        assert stack.process.wait(timeout=STOP_TIMEOUT_SECONDS) == 1, stack.text()
        assert "worker exited unexpectedly" in stack.text()
        assert alive(children) == {}, [command_line(pid) for pid in alive(children)]

"""The real `sms-addon dev` (what `make run` runs), end to end, on ports of its own.

First run: migrates, starts Temporal, the worker and the API, seeds the demo through
the admin API; the printed curl walkthrough works when pasted; the operator command it
prints works as printed; a second stack on the same ports names every one of them;
SIGINT then stops every child. Second run: keeps the data and does not seed again; the
walkthrough pasted again works too, and so do the README's blocks after it; a child
that dies takes the stack down with a non-zero exit.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
from sqlalchemy import select

from application.security import hash_token
from devstack.demo import DEMO_ACCOUNTS, MAIN_ACCOUNT
from store.caller_models import ApiToken
from store.db import make_engine, make_session_factory
from store.models import Account, User
from tests import walkthrough
from tests.mail_support import parse
from tests.ports import start_on_reserved_ports

READY_LINE = "Ctrl-C stops everything"
START_TIMEOUT_SECONDS = 45.0
STOP_TIMEOUT_SECONDS = 30.0
# Receipts are mailed once the event sweep (every 5 s in the embedded stack) starts them.
MAIL_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.2
# Settings and envconfig variables of a developer's shell that would point the stack (or
# `sms-addon ops`) elsewhere.
FOREIGN_ENV = (
    "DATABASE_URL",
    "SMS_ADMIN_TOKEN",
    "SMS_WEBHOOK_SECRET",
    "TEMPORAL_ADDRESS",
    "API_URL",
)


@dataclass
class Stack:
    process: subprocess.Popen[str]
    output: Path
    ports: dict[str, int]
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


PORT_SETTINGS = (
    "API_PORT",
    "SMS_DEV_TEMPORAL_PORT",
    "SMS_DEV_TEMPORAL_UI_PORT",
    "SMS_DEV_TEMPORAL_HTTP_PORT",
    "SMS_DEV_TEMPORAL_METRICS_PORT",
    "SMS_WORKER_METRICS_PORT",
    "SMS_DEV_SMTP_PORT",
)


def dev_env(ports: dict[str, int]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in FOREIGN_ENV}
    env.update({name: str(port) for name, port in ports.items()}, PYTHONUNBUFFERED="1")
    return env


def spawn(workdir: Path, output: Path, ports: dict[str, int]) -> subprocess.Popen[str]:
    with output.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "starter.cli", "dev"],
            cwd=workdir,
            env=dev_env(ports),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


def start_stack(workdir: Path, run: int) -> Stack:
    """`sms-addon dev` on reserved ports (every port it opens), ready to use."""

    def start(reserved: list[int]) -> Stack:
        ports = dict(zip(PORT_SETTINGS, reserved, strict=True))
        output = workdir / f"dev-{run}.out"
        stack = Stack(
            spawn(workdir, output, ports),
            output,
            ports,
            f"http://localhost:{ports['API_PORT']}",
            f"http://localhost:{ports['SMS_DEV_TEMPORAL_UI_PORT']}",
            f"http://localhost:{ports['SMS_WORKER_METRICS_PORT']}/metrics",
        )
        try:
            stack.wait_ready()
        except BaseException:
            stop(stack)
            raise
        return stack

    return start_on_reserved_ports(len(PORT_SETTINGS), start)


def stop(stack: Stack) -> None:
    """SIGINT, as Ctrl-C; whatever is left after that is killed."""
    process = stack.process
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


@contextmanager
def dev_stack(workdir: Path, run: int) -> Iterator[Stack]:
    stack = start_stack(workdir, run)
    try:
        yield stack
    finally:  # a failed test must not leave a stack behind either
        stop(stack)


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


def operator_command(printed: str) -> list[str]:
    """The `sms-addon ops …` line the banner prints, as argv."""
    line = next(line for line in printed.splitlines() if line.startswith("  Operators "))
    return shlex.split(line.removeprefix("  Operators ").split("   (")[0])


def check_operator_command(stack: Stack, workdir: Path) -> None:
    """As printed, from the directory `make run` ran in, in a shell without the admin
    token: it finds the token itself and answers with the JSON alone."""
    env = {name: value for name, value in os.environ.items() if name not in FOREIGN_ENV}
    command = operator_command(stack.text())
    done = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=STOP_TIMEOUT_SECONDS
    )
    assert done.returncode == 0 and done.stderr == "", done
    assert json.loads(done.stdout) == {"audit": []}


def refused_start(workdir: Path, ports: dict[str, int]) -> tuple[int, str]:
    """`sms-addon dev` expected to refuse before it starts anything: its exit code and
    all it printed."""
    output = workdir / "refused.out"
    process = spawn(workdir, output, ports)
    try:
        return process.wait(timeout=START_TIMEOUT_SECONDS), output.read_text()
    finally:
        process.kill()


def check_second_stack_names_every_port(stack: Stack, workdir: Path) -> None:
    code, said = refused_start(workdir, stack.ports)
    assert code == 1, said
    for setting, port in stack.ports.items():
        assert f"port {port} is taken; set {setting} to a free port" in said, said


def check_readme_operators(stack: Stack, workdir: Path) -> None:
    """The README's operator commands, with `.venv/bin/` where this checkout keeps it."""
    script = walkthrough.readme_block(walkthrough.OPERATORS_HEADING).replace(
        ".venv/bin/sms-addon", str(Path(sys.executable).with_name("sms-addon"))
    )
    done = subprocess.run(
        ["bash"], input=script, cwd=workdir, env=dev_env(stack.ports), capture_output=True,
        text=True, timeout=walkthrough.PASTE_TIMEOUT_SECONDS,
    )  # fmt: skip
    assert "commands:" in done.stdout and '"audit": [' in done.stdout, done
    assert json.loads(done.stderr)["error"]["code"] == "not_past_due", done  # nothing else


def mail_with_pdf(directory: Path, count: int) -> list[EmailMessage]:
    """The first ``count`` receipts the SMTP sink kept, once it has them."""
    deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
    while True:
        kept = [parse(path.read_bytes()) for path in sorted(directory.glob("*.eml"))]
        receipts = [m for m in kept if any(True for _ in m.iter_attachments())]
        if len(receipts) >= count:
            return receipts[:count]
        assert time.monotonic() < deadline, f"no {count} receipts mailed: {len(kept)} kept"
        time.sleep(POLL_SECONDS)


def test_make_run_stack(tmp_path: Path):
    data = tmp_path / ".data"
    with dev_stack(tmp_path, run=1) as stack:
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
        assert f"Billing page {stack.api_url}/billing" in stack.text()
        sign_in = httpx.get(f"{stack.api_url}/billing/sign-in", timeout=5)
        assert sign_in.status_code == 200 and "API token" in sign_in.text
        children = descendants(stack.process.pid)
        commands = " ".join(command_line(pid) for pid in children)
        assert "server start-dev" in commands and "worker" in commands and "api" in commands
        shown = walkthrough.paste(stack.text(), tmp_path)
        assert walkthrough.statuses(shown) == walkthrough.FIRST_PASTE, shown
        assert walkthrough.mentioned_statuses(stack.text()) <= set(walkthrough.FIRST_PASTE)
        assert shown.count('"status":"completed"') == 2, shown
        assert walkthrough.sends(data / "sms-addon.db", MAIN_ACCOUNT) == walkthrough.SENDS
        check_operator_command(stack, tmp_path)
        check_second_stack_names_every_port(stack, tmp_path)
        assert "Mail         .data/mail/*.eml" in stack.text()
        receipts = mail_with_pdf(data / "mail", count=2)  # the walkthrough's two purchases
        assert all(m["Subject"].startswith("Your receipt SMS-") for m in receipts)
        stack.process.send_signal(signal.SIGINT)
        assert stack.process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0, stack.text()
        assert alive(children) == {}, [command_line(pid) for pid in alive(children)]

    with dev_stack(tmp_path, run=2) as stack:
        assert "seeded on an earlier run" in stack.text()
        assert check_seed(data) == tokens
        # The same walkthrough pasted again: fresh keys, and what acme can still buy;
        # then the README's later life of the add-on and its A2P 10DLC registration.
        more = (walkthrough.LATER_LIFE_HEADING, walkthrough.A2P_HEADING)
        shown = walkthrough.paste(
            stack.text(), tmp_path, *(walkthrough.readme_block(heading) for heading in more)
        )
        expected = [*walkthrough.LATER_PASTE, *walkthrough.LATER_LIFE, *walkthrough.A2P]
        assert walkthrough.statuses(shown) == expected, shown
        assert "addon_already_active" in shown and shown.count('"status":"completed"') == 3
        assert '"status":"brand_pending"' in shown, shown
        assert walkthrough.sends(data / "sms-addon.db", MAIN_ACCOUNT) == 2 * walkthrough.SENDS
        check_readme_operators(stack, tmp_path)
        children = descendants(stack.process.pid)
        worker = next(pid for pid in children if command_line(pid).endswith("worker "))
        os.kill(worker, signal.SIGKILL)
        assert stack.process.wait(timeout=STOP_TIMEOUT_SECONDS) == 1, stack.text()
        assert "worker exited unexpectedly" in stack.text()
        assert alive(children) == {}, [command_line(pid) for pid in alive(children)]

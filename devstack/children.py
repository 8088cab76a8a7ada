"""Child processes of the embedded stack, started, watched and stopped together.

Managed by hand with ``subprocess``: three long-lived children with one start
order and one rule (if one exits, all stop) do not justify a supervisor
dependency. Each child leads its own session (process group), so the terminal's
Ctrl-C reaches only the parent, which then stops the children in reverse order
and kills a whole group, grandchildren included, that outlives the grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_SECONDS = 10.0
LOG_TAIL_LINES = 20


class ChildExited(RuntimeError):
    """A child stopped on its own; the message names it and shows the end of its log."""

    def __init__(self, message: str, child: Child) -> None:
        super().__init__(message)
        self.child = child


@dataclass(frozen=True)
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_start: int = 0  # the log is appended to; this run's output starts here

    def output(self) -> str:
        """What this child wrote to its log (not earlier runs)."""
        with self.log_path.open("rb") as log:
            log.seek(self.log_start)
            return log.read().decode(errors="replace")

    def tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        return "\n".join(f"  | {line}" for line in lines)


class Children:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Child] = []

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Child:
        """Start ``argv`` in its own session, its output appended to ``{log_dir}/{name}.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            log_start = log.tell()
            process = subprocess.Popen(
                list(argv),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name, process, log_path, log_start)
        self.started.append(child)
        return child

    def check(self) -> None:
        """Raise ``ChildExited`` if any child has stopped."""
        for child in self.started:
            code = child.process.poll()
            if code is not None:
                raise ChildExited(
                    f"{child.name} exited unexpectedly with code {code}; "
                    f"the end of {child.log_path}:\n{child.tail()}",
                    child,
                )

    def stop(self) -> None:
        """Stop every child, last started first: SIGINT (each handles it as Ctrl-C and
        shuts down cleanly), then SIGKILL to its whole group after the grace period."""
        for child in reversed(self.started):
            _signal_group(child, signal.SIGINT)
            try:
                child.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.process.wait()
            # Whatever the child left behind in its group goes with it.
            _signal_group(child, signal.SIGKILL)
        self.started.clear()


def _signal_group(child: Child, sig: signal.Signals) -> None:
    # The child leads its session, so its pid is its process group id.
    with contextlib.suppress(ProcessLookupError):  # the group is already empty
        os.killpg(child.process.pid, sig)

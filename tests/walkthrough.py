"""Paste the curl walkthrough that `make run` prints, and the README's blocks that
follow it, as a reader would, and read back the status codes it showed (each call
prints ``… -> <status>``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from store.db import make_engine, make_session_factory
from store.ledger_models import CreditEntry

README = Path(__file__).parents[1] / "README.md"
TOKENS_HEADING = "paste these lines into another shell:"
WALKTHROUGH_HEADING = "Then walk through the flow:"
STATUS = re.compile(r" -> (\d{3})$", re.MULTILINE)
MENTIONED = re.compile(r"-> (\d{3})")
PASTE_TIMEOUT_SECONDS = 120.0

# What one paste shows, call by call: the first time acme buys the add-on; on a
# later paste that answers 409 and acme buys a credit pack instead.
FIRST_PASTE = ["200", "200", "200", "201", "200", "200", "200", "200", "201", "200"]
FIRST_PASTE += ["200", "200", "200", "200", "200", "403", "409"]
LATER_PASTE = [*FIRST_PASTE[:3], "409", *FIRST_PASTE[3:]]
# The README's "later life" (lines, upgrade and confirm, end a pack, cancel, resume)
# and its A2P 10DLC registration (submit, read).
LATER_LIFE = ["200", "201", "200", "200", "200", "200"]
A2P = ["202", "200"]
LATER_LIFE_HEADING = "## The add-on's later life"
A2P_HEADING = "## US sending: registering for A2P 10DLC"
OPERATORS_HEADING = "## Operators"
SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
# Sends (debits) one paste makes: the sale, then the drain that sets off the alerts.
SENDS = 2


def block(printed: str, heading: str) -> str:
    """The indented lines under ``heading`` in what `make run` printed, unindented."""
    after = printed.split(heading, 1)[1].splitlines()[1:]
    lines: list[str] = []
    for line in after:
        if not line.startswith("  "):
            break
        lines.append(line[2:])
    return "\n".join(lines) + "\n"


def readme_block(heading: str) -> str:
    """The first ``sh`` block of the README's section ``heading``."""
    section = README.read_text().split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    found = SH_BLOCK.search(section)
    assert found is not None, f"no sh block under {heading}"
    return found.group(1)


def paste(printed: str, workdir: Path, *more: str) -> str:
    """Run the token lines, the walkthrough and ``more`` (README blocks) in a fresh
    bash, as one paste; all it shows."""
    script = block(printed, TOKENS_HEADING) + block(printed, WALKTHROUGH_HEADING)
    script += "".join(more)
    return run_bash(script, workdir)


def run_bash(script: str, workdir: Path) -> str:
    result = subprocess.run(
        ["bash"],
        input=script,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=PASTE_TIMEOUT_SECONDS,
    )
    return result.stdout


def statuses(shown: str) -> list[str]:
    return STATUS.findall(shown)


def mentioned_statuses(printed: str) -> set[str]:
    """Every status code the walkthrough's comments promise."""
    return set(MENTIONED.findall(block(printed, WALKTHROUGH_HEADING)))


def sends(database: Path, account_id: str) -> int:
    """How many sends (debits) the account's ledger holds."""
    engine = make_engine(f"sqlite:///{database}")
    try:
        with make_session_factory(engine)() as session:
            count = session.scalar(
                select(func.count())
                .select_from(CreditEntry)
                .where(CreditEntry.account_id == account_id, CreditEntry.kind == "debit")
            )
    finally:
        engine.dispose()
    return int(count or 0)

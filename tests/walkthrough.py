"""Paste the curl walkthrough that `make run` prints, as a reader would, and read
back the status codes it showed (each call prints ``… -> <status>``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from store.db import make_engine, make_session_factory
from store.models import CreditEntry

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


def paste(printed: str, workdir: Path) -> str:
    """Run the token lines and the walkthrough in a fresh bash, as one paste; all it shows."""
    script = block(printed, TOKENS_HEADING) + block(printed, WALKTHROUGH_HEADING)
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

"""The README stays true: the text and the walkthrough `make run` prints, and every
command it shows. Each ``sh`` block is run by a test: the sign-in token's here; the
later life, the A2P 10DLC registration and the operator commands against the real
stack in tests/test_dev_stack.py."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import DEFAULTS
from devstack.demo import DEMO_ACCOUNTS, DemoState, token_key
from devstack.layout import DevStack
from devstack.walkthrough import walkthrough
from devstack.welcome import banner
from starter.cli import build_parser
from starter.cli.ops import build_ops_parser
from tests import walkthrough as paste

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
ELIDED = "…"
SIGN_IN_HEADING = "## Open the billing page"
COMMANDS_HEADING = "## The two commands"
# Every section with a sh block, and the test that runs it.
RUN_HERE = {COMMANDS_HEADING, SIGN_IN_HEADING}
RUN_ON_THE_STACK = {paste.LATER_LIFE_HEADING, paste.A2P_HEADING, paste.OPERATORS_HEADING}


def sections_with_commands() -> set[str]:
    headings = re.findall(r"(?m)^## .*$", README)
    return {heading for heading in headings if "```sh" in section(heading)}


def section(heading: str) -> str:
    return README.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def test_every_command_block_is_run_by_a_test():
    assert sections_with_commands() == RUN_HERE | RUN_ON_THE_STACK


def test_the_readme_shows_the_walkthrough_make_run_prints():
    assert f"Then walk through the flow:\n{walkthrough()}\n```" in README


def test_the_readme_shows_what_make_run_prints(monkeypatch, tmp_path):
    """Line for line, but for the tokens it shortens and the lines it leaves out."""
    shown = re.search(r"(?s)## What `make run` prints\n.*?```text\n(.*?)```", README)
    assert shown is not None
    short = {
        token_key(a.account_id, u.user_id): "sms_IxHr…" for a in DEMO_ACCOUNTS for u in a.users
    }
    state = DemoState(Path(".data/demo.json"), complete=True, tokens=short)
    # From the checkout's root, with its .venv, as `make run` runs.
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "executable", str(ROOT / ".venv" / "bin" / "python"))
    printed = banner(DevStack(DEFAULTS), "MjnzS7Cl…", state, seeded_now=True).splitlines()
    missing = [
        line
        for line in shown.group(1).splitlines()
        if line.strip() != ELIDED and line not in printed
    ]
    assert missing == []


def test_the_sign_in_token_command_prints_anas_token(tmp_path: Path):
    tokens = {
        token_key(a.account_id, u.user_id): f"sms_{u.user_id}"
        for a in DEMO_ACCOUNTS
        for u in a.users
    }
    DemoState(tmp_path / ".data" / "demo.json", complete=True, tokens=tokens).save()
    script = paste.readme_block(SIGN_IN_HEADING)
    printed = subprocess.run(
        ["bash"], input=script, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert printed.stdout == "sms_ana\n"


def test_the_two_commands_are_make_targets():
    block = paste.readme_block(COMMANDS_HEADING)
    commands = [line.split("#")[0].split() for line in block.splitlines()]
    assert [words for words in commands if words] == [["make", "run"], ["make", "test"]]
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"`make (\w+)`", README)) | {"run", "test"}:
        assert re.search(rf"(?m)^{target}:", makefile), f"make {target} is not a target"


def sms_addon_commands() -> list[list[str]]:
    return [
        shlex.split(line.split("#")[0])
        for line in README.splitlines()
        if line.startswith(".venv/bin/sms-addon ")
    ]


@pytest.mark.parametrize("argv", sms_addon_commands(), ids=shlex.join)
def test_every_sms_addon_command_parses(argv: list[str]):
    """`--help` exits 0; every other command is one the real parsers accept."""
    arguments = argv[1:]
    try:
        if arguments[:1] == ["ops"]:
            build_ops_parser().parse_args(arguments[1:])
        else:
            build_parser().parse_args(arguments)
    except SystemExit as exit:
        assert exit.code == 0 and "--help" in arguments, argv

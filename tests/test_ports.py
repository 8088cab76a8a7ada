"""The reserved ports of tests/ports.py: outside the ephemeral range, never handed to
two test processes, and a start that loses a port to an outsider is tried again."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests import ports
from tests.ports import band, bindable, reserve_ports, start_on_reserved_ports

HOLDER = """
import sys
from tests.ports import reserve_ports
print(*reserve_ports(20), flush=True)
sys.stdin.read()  # hold the ports until the test closes stdin
"""


def test_ports_come_from_outside_the_ephemeral_range():
    low, high = ports._ephemeral_range()
    reserved = reserve_ports(10)
    assert len(set(reserved)) == 10
    assert all(port in band() and not low <= port <= high for port in reserved)
    assert all(bindable(port) for port in reserved)


def test_two_processes_never_get_the_same_port(monkeypatch: pytest.MonkeyPatch):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        cwd=Path(__file__).parents[1],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        theirs = [int(port) for port in holder.stdout.readline().split()]
        # Start where the other process started, so only the locks keep us apart.
        monkeypatch.setattr(random, "randrange", lambda _: band().index(theirs[0]))
        ours = reserve_ports(20)
    finally:
        holder.communicate("")
    assert len(theirs) == 20
    assert set(ours).isdisjoint(theirs)


def test_a_start_that_loses_a_port_is_tried_again_with_fresh_ones():
    attempts: list[list[int]] = []
    outsiders: list[socket.socket] = []

    def start(given: list[int]) -> list[int]:
        attempts.append(given)
        if len(attempts) == 1:  # a program outside the suite took the port first
            outsiders.append(socket.create_server(("127.0.0.1", given[1])))
            raise OSError("bind: address already in use")
        return given

    try:
        assert start_on_reserved_ports(2, start) == attempts[1]
    finally:
        for outsider in outsiders:
            outsider.close()
    assert len(attempts) == 2 and set(attempts[0]).isdisjoint(attempts[1])


def test_a_start_that_fails_otherwise_is_not_retried():
    attempts: list[list[int]] = []

    def start(given: list[int]) -> None:
        attempts.append(given)
        raise ValueError("a bad flag")

    with pytest.raises(ValueError, match="a bad flag"):
        start_on_reserved_ports(2, start)
    assert len(attempts) == 1

"""`sms-addon dev` names the setting to change when a port it was given is taken,
one line per port, every such port at once, and before it starts anything."""

from __future__ import annotations

import os
import socket
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from config.settings import Settings
from devstack.children import ChildExited, Children
from devstack.dev_ports import clash_in_log, dev_ports
from tests.ports import reserve_ports
from tests.test_dev_stack import PORT_SETTINGS, refused_start

EXIT_TIMEOUT_SECONDS = 60.0


def fresh_ports() -> dict[str, int]:
    return dict(zip(PORT_SETTINGS, reserve_ports(len(PORT_SETTINGS)), strict=True))


@pytest.mark.parametrize("taken_setting", ["SMS_DEV_TEMPORAL_PORT", "API_PORT"])
def test_a_taken_port_names_its_setting(tmp_path: Path, taken_setting: str):
    ports = fresh_ports()
    with socket.create_server(("127.0.0.1", ports[taken_setting])):  # someone else's server
        code, said = refused_start(tmp_path, ports)
    assert code == 1, said
    advice = f"port {ports[taken_setting]} is taken; set {taken_setting} to a free port"
    assert said.strip().splitlines() == [f"sms-addon dev: {advice}"], said
    assert not (tmp_path / ".data" / "logs").exists(), "no child may start"


def test_every_taken_port_is_named_at_once(tmp_path: Path):
    """As when a stack is running already: one attempt lists all, not one per attempt."""
    ports = fresh_ports()
    with ExitStack() as servers:
        for port in ports.values():
            servers.enter_context(socket.create_server(("127.0.0.1", port)))
        code, said = refused_start(tmp_path, ports)
    assert code == 1, said
    heading, *lines = said.strip().splitlines()
    assert heading == (
        f"sms-addon dev: {len(ports)} of the stack's ports cannot be used (is it running already?):"
    ), said
    assert sorted(lines) == sorted(
        f"  port {port} is taken; set {name} to a free port" for name, port in ports.items()
    ), said
    assert not (tmp_path / ".data" / "logs").exists(), "no child may start"


def test_two_settings_on_one_port_are_named(tmp_path: Path):
    ports = fresh_ports()
    ports["API_PORT"] = ports["SMS_DEV_TEMPORAL_UI_PORT"]
    code, said = refused_start(tmp_path, ports)
    assert code == 1, said
    assert said.strip() == (
        "sms-addon dev: SMS_DEV_TEMPORAL_UI_PORT and API_PORT are the same port "
        f"{ports['API_PORT']}; give each its own port"
    )


# Lines as the children write them when a port is taken between the check and their bind.
TEMPORAL_LOG = (
    '{"level":"FATAL","prefix":"echo","file":"server.go","message":'
    '"listen tcp 127.0.0.1:7244: bind: address already in use"}'
)
UVICORN_LOG = (
    "ERROR:    [Errno 98] error while attempting to bind on address "
    "('127.0.0.1', 8000): address already in use"
)


def test_a_clash_in_a_childs_log_names_its_setting():
    ports = dev_ports(Settings(api_port=8000, sms_dev_temporal_metrics_port=7244))
    assert clash_in_log(f"start\n{TEMPORAL_LOG}\n", ports) == (
        "port 7244 is taken; set SMS_DEV_TEMPORAL_METRICS_PORT to a free port"
    )
    assert clash_in_log(UVICORN_LOG, ports) == "port 8000 is taken; set API_PORT to a free port"
    # A port that is not ours (one of Temporal's internal services) is not our advice.
    assert clash_in_log(TEMPORAL_LOG.replace("7244", "45255"), ports) is None
    assert clash_in_log("listening on 127.0.0.1:7244", ports) is None


def exited_child(log_dir: Path, line: str) -> ChildExited:
    """A child that writes ``line`` and exits, as Temporal does when its bind fails."""
    children = Children(log_dir)
    child = children.start("temporal", [sys.executable, "-c", f"print({line!r})"], os.environ)
    child.process.wait(timeout=EXIT_TIMEOUT_SECONDS)
    with pytest.raises(ChildExited) as exited:
        children.check()
    children.stop()
    return exited.value


def test_only_this_runs_log_is_read_for_a_clash(tmp_path: Path):
    ports = dev_ports(Settings(api_port=8000, sms_dev_temporal_metrics_port=7244))
    first = exited_child(tmp_path, TEMPORAL_LOG)
    assert clash_in_log(first.child.output(), ports) == (
        "port 7244 is taken; set SMS_DEV_TEMPORAL_METRICS_PORT to a free port"
    )
    # The next run appends to the same log and fails otherwise: no stale advice.
    second = exited_child(tmp_path, "FATAL: something else")
    assert TEMPORAL_LOG in second.child.log_path.read_text()
    assert clash_in_log(second.child.output(), ports) is None

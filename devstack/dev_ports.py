"""The ports `sms-addon dev` listens on, each named by the setting that moves it.

They are checked before any child starts, so each taken port is one line naming the
setting to change (every one at once) rather than a Temporal or uvicorn stack trace;
a port taken between that check and a child's bind is recognised in the child's log.
"""

from __future__ import annotations

import errno
import re
import socket
from collections import defaultdict
from dataclasses import dataclass

from config.settings import Settings

DEV_HOST = "localhost"
BIND_CLASH = "address already in use"


class PortUnavailable(RuntimeError):
    """A port of the stack cannot be listened on; the message names the setting."""


@dataclass(frozen=True)
class DevPort:
    setting: str
    host: str
    port: int

    def advice(self, problem: str = "is taken") -> str:
        return f"port {self.port} {problem}; set {self.setting} to a free port"


def dev_ports(settings: Settings) -> list[DevPort]:
    """Every port the stack listens on; the dev server opens no other fixed one."""
    return [
        DevPort("SMS_DEV_TEMPORAL_PORT", DEV_HOST, settings.sms_dev_temporal_port),
        DevPort("SMS_DEV_TEMPORAL_UI_PORT", DEV_HOST, settings.sms_dev_temporal_ui_port),
        DevPort("SMS_DEV_TEMPORAL_HTTP_PORT", DEV_HOST, settings.sms_dev_temporal_http_port),
        DevPort("SMS_DEV_TEMPORAL_METRICS_PORT", DEV_HOST, settings.sms_dev_temporal_metrics_port),
        DevPort("API_PORT", settings.api_host, settings.api_port),
        DevPort("SMS_DEV_SMTP_PORT", DEV_HOST, settings.sms_dev_smtp_port),
        DevPort(
            "SMS_WORKER_METRICS_PORT",
            settings.sms_worker_metrics_host,
            settings.sms_worker_metrics_port,
        ),
    ]


def check_ports(ports: list[DevPort]) -> None:
    """Raise ``PortUnavailable`` naming every port two settings share or that is taken,
    all at once: a stack still running takes them all, and one retry should fix all."""
    by_port: dict[int, list[str]] = defaultdict(list)
    for port in ports:
        by_port[port.port].append(port.setting)
    problems = [
        f"{' and '.join(settings)} are the same port {number}; give each its own port"
        for number, settings in by_port.items()
        if len(settings) > 1
    ]
    for port in ports:
        if len(by_port[port.port]) == 1 and (problem := _bind_problem(port)) is not None:
            problems.append(port.advice(problem))
    if len(problems) == 1:
        raise PortUnavailable(problems[0])
    if problems:
        listed = "".join(f"\n  {problem}" for problem in problems)
        raise PortUnavailable(
            f"{len(problems)} of the stack's ports cannot be used (is it running already?):{listed}"
        )


def _bind_problem(port: DevPort) -> str | None:
    # IPv4 first: that is where Go (Temporal) and uvicorn bind a name like "localhost".
    infos = sorted(
        socket.getaddrinfo(port.host, port.port, type=socket.SOCK_STREAM),
        key=lambda info: info[0] != socket.AF_INET,
    )
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # As servers bind: a port whose last connection lingers in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "is taken"
            return f"cannot be listened on at {port.host} ({exc.strerror})"
    return None


def clash_in_log(log: str, ports: list[DevPort]) -> str | None:
    """The advice for a port of ours that a child's log says was already in use."""
    for line in log.splitlines():
        if BIND_CLASH not in line.lower():
            continue
        for port in ports:
            if re.search(rf"(?<!\d){port.port}(?!\d)", line):
                return port.advice()
    return None

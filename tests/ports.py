"""Loopback ports for tests that start servers or need a port where nothing listens."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback TCP port that nothing listens on (the OS picked it and it was closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port

"""A local SMTP server that keeps every message it is given as a file, for the embedded
stack (`make run` starts it and points SMS_SMTP_URL at it) and the tests.

Each message is written as ``{dir}/{received-at}-{id}.eml`` (the raw message, which
any mail program opens), written aside first and renamed, so a reader never sees half
a message. Run as ``python -m devstack.mail_sink --port 1025 --dir .data/mail``.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

ACCEPTED = "250 Message accepted for delivery"


class MailDir:
    """The aiosmtpd handler: each message accepted is written to ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.keep(envelope)
        return ACCEPTED

    def keep(self, envelope: Envelope) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        content = envelope.original_content or b""
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.eml"
        aside = self.directory / f".{name}.part"
        aside.write_bytes(content)
        kept = self.directory / name
        os.replace(aside, kept)
        return kept

    def messages(self) -> list[Path]:
        """The messages kept so far, oldest first."""
        return sorted(self.directory.glob("*.eml"))


def serve(handler: MailDir, host: str, port: int) -> Controller:
    """The SMTP server on ``host:port``, started (on a thread of its own)."""
    controller = Controller(handler, hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    controller = serve(MailDir(args.dir), args.host, args.port)
    print(f"SMTP sink on {args.host}:{args.port}, keeping mail in {args.dir}/", flush=True)
    try:
        stopped.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

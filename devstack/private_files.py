"""Files only the owner may read (mode 0600): the embedded stack's secrets and demo tokens."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_MODE = 0o600
SECRET_BYTES = 32


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, never readable by others even briefly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    partial.replace(path)


def persistent_secret(path: Path) -> str:
    """The secret kept in ``path``, generated on first use so later runs reuse it."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    secret = secrets.token_urlsafe(SECRET_BYTES)
    write_private(path, secret + "\n")
    return secret

"""Files only the owner may read (mode 0600): the embedded stack's secrets and demo tokens."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
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


def _token() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def persistent_secret(
    path: Path, new: Callable[[], str] = _token, usable: Callable[[str], bool] = bool
) -> str:
    """The secret kept in ``path``, made by ``new`` on first use so later runs reuse it
    (and made again if the kept one is not ``usable``: one of an older form)."""
    if path.exists():
        kept = path.read_text(encoding="utf-8").strip()
        if usable(kept):
            return kept
    secret = new()
    write_private(path, secret + "\n")
    return secret

"""How workflows write moments for operators: one format everywhere in the Temporal UI."""

from __future__ import annotations

from datetime import datetime


def moment(at: datetime) -> str:
    """``2026-12-26 00:00 UTC``: business time is UTC (DESIGN.md §1)."""
    return f"{at:%Y-%m-%d %H:%M} UTC"


def day(at: datetime) -> str:
    """``2026-12-26``: a renewal or billing boundary, always at 00:00 UTC."""
    return f"{at:%Y-%m-%d}"


def with_note(details: str, note: str | None) -> str:
    """A step's details line and what it waits for meanwhile: ``Capturing $18.00; payment
    outcome unknown since …, left to the janitor.``"""
    return details if note is None else f"{details.removesuffix('.')}; {note}."

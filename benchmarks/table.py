"""The bench's table: each figure beside its reference from the same run, the ratio
between them, and the target as a ratio (pass/FAIL). Absolute figures stay as
information; they move with the machine and its load, the ratios much less."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    figure: str
    value: float
    unit: str
    reference: float | None
    target: str
    passed: bool | None

    def cells(self) -> list[str]:
        ratio = f"{self.value / self.reference:.2f}×" if self.reference else "—"
        reference = "—" if self.reference is None else f"{self.reference:,.1f}"
        verdict = {True: "pass", False: "FAIL", None: "—"}[self.passed]
        return [
            self.figure,
            f"{self.value:,.1f} {self.unit}",
            reference,
            ratio,
            self.target,
            verdict,
        ]


def info(figure: str, value: float, unit: str, reference: float | None = None) -> Row:
    """A figure shown for what it tells, with no target."""
    return Row(figure, value, unit, reference, "—", None)


def at_least(figure: str, value: float, unit: str, reference: float, factor: float) -> Row:
    """Passes when ``value`` ≥ ``factor`` × ``reference`` (a rate)."""
    return Row(figure, value, unit, reference, f"≥ {factor:g}×", value >= factor * reference)


def at_most(figure: str, value: float, unit: str, reference: float, factor: float) -> Row:
    """Passes when ``value`` ≤ ``factor`` × ``reference`` (a latency)."""
    return Row(figure, value, unit, reference, f"≤ {factor:g}×", value <= factor * reference)


def within(figure: str, value: float, unit: str, most: float) -> Row:
    """An absolute bound, for what does not scale with the machine: timeouts, counts
    that must be zero, memory."""
    return Row(figure, value, unit, None, f"≤ {most:g} {unit}".rstrip(), value <= most)


def table(rows: list[Row]) -> str:
    header = ["figure", "measured", "reference", "ratio", "target", "result"]
    lines = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def verdict(rows: list[Row]) -> str:
    targets = [row for row in rows if row.passed is not None]
    missed = [row.figure.strip() for row in targets if not row.passed]
    summary = f"{len(targets) - len(missed)} of {len(targets)} targets met"
    return summary + (f"; missed: {'; '.join(missed)}" if missed else "")

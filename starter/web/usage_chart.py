"""This month's credits used, drawn as two small SVG charts, per day and by country,
in Python: no script, no chart library, nothing from outside (the page's CSP allows
none). Colours come from the stylesheet by class; each chart is an image with a
title and a description a screen reader reads instead of the bars.

Across, positions are percentages of the chart's width and up and down they are
pixels, with no viewBox: the chart takes its column's whole width on a phone or a
desktop while its words keep the page's own size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_skeleton
from markupsafe import Markup, escape

from domain.usage import MonthUsage
from starter.web.i18n import Formats

DAY_HEIGHT = 150  # px
TOP = 24  # the axis top's gridline; its label sits above it
BOTTOM = 22  # room for the dates under the bars
ROW = 40  # px per country: its name and credits over its bar
BAR = 10  # px, a country's bar
COUNTRIES_SHOWN = 6
BAR_SHARE = 0.7  # of each day's band; the rest is the gap


@dataclass(frozen=True)
class ChartWords:
    """The words around the bars, already in the page's language."""

    title: str
    description: str = ""  # by country: each country and its credits, when left empty
    no_country: str = ""  # the name of debits that name no country


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at or above ``value`` (at least 1): the axis top."""
    if value <= 1:
        return 1
    scale = 1  # the power of ten at or below it
    while scale * 10 <= value:
        scale *= 10
    for step in (1, 2, 5, 10):
        if step * scale >= value:
            return step * scale
    raise AssertionError("unreachable: 10 × scale is above value")


def _svg(chart_id: str, height: int, words: ChartWords, body: list[str]) -> Markup:
    title, desc = f"{chart_id}-title", f"{chart_id}-desc"
    return Markup(
        f'<svg id="{chart_id}" class="chart" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{title} {desc}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{title}">{escape(words.title)}</title>'
        f'<desc id="{desc}">{escape(words.description)}</desc>' + "".join(body) + "</svg>"
    )


def _text(x: str, y: float, content: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x}" y="{y:.1f}" class="chart-label" text-anchor="{anchor}">'
        f"{escape(content)}</text>"
    )


def _rect(x: float, y: float, width: float, height: float) -> str:
    """A bar: across in percent of the chart, up and down in pixels."""
    return (
        f'<rect x="{x:.2f}%" y="{y:.1f}" width="{width:.2f}%" height="{height:.1f}" '
        'class="chart-bar"/>'
    )


def _line(y: float) -> str:
    return f'<line x1="0" y1="{y:.1f}" x2="100%" y2="{y:.1f}" class="chart-grid"/>'


def _day(day: date, fmt: Formats) -> str:
    return format_skeleton("MMMd", day, locale=fmt.locale)


def per_day_chart(usage: MonthUsage, fmt: Formats, words: ChartWords) -> Markup:
    """One bar per day of the credit month, on an axis from 0 to a round top."""
    days = usage.per_day
    top = nice_ceiling(max((used for _, used in days), default=0))
    base = DAY_HEIGHT - BOTTOM
    plot = base - TOP
    body = [_line(y) for y in (TOP, TOP + plot / 2, base)]
    body.append(_text("0", TOP - 6, fmt.number(top)))
    band = 100 / max(len(days), 1)
    for index, (_, used) in enumerate(days):
        if used:
            height = max(plot * used / top, 1.0)
            x = index * band + band * (1 - BAR_SHARE) / 2
            body.append(_rect(x, base - height, band * BAR_SHARE, height))
    if days:
        label_y = DAY_HEIGHT - 5
        body.append(_text("0", label_y, _day(days[0][0], fmt)))
        middle = len(days) // 2
        body.append(
            _text(f"{(middle + 0.5) * band:.2f}%", label_y, _day(days[middle][0], fmt), "middle")
        )
        body.append(_text("100%", label_y, _day(days[-1][0], fmt), "end"))
    return _svg("usage-per-day", DAY_HEIGHT, words, body)


def country_name(code: str, fmt: Formats) -> str:
    return str(Locale.parse(fmt.locale).territories.get(code, code))


def by_country_chart(usage: MonthUsage, fmt: Formats, words: ChartWords) -> Markup:
    """One row per country, most first: its name and credits over a bar to scale."""
    rows = [
        (country_name(code, fmt) if code else words.no_country, used)
        for code, used in usage.by_country[:COUNTRIES_SHOWN]
    ]
    most = max((used for _, used in rows), default=0) or 1
    body: list[str] = []
    for index, (name, used) in enumerate(rows):
        y = index * ROW
        body.append(_text("0", y + 16, name))
        body.append(_text("100%", y + 16, fmt.number(used), "end"))
        body.append(_rect(0, y + 22, max(100 * used / most, 0.5), BAR))
    if not words.description:
        listed = "; ".join(f"{name}: {fmt.number(used)}" for name, used in rows)
        words = ChartWords(words.title, listed, words.no_country)
    return _svg("usage-by-country", max(len(rows), 1) * ROW, words, body)

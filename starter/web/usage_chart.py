"""This month's credits used, drawn as two small SVG charts, per day and by country,
in Python: no script, no chart library, nothing from outside (the page's CSP allows
none). Colours come from the stylesheet by class; each chart is an image with a
title and a description a screen reader reads instead of the bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from math import ceil

from babel import Locale
from babel.dates import format_skeleton
from markupsafe import Markup, escape

from domain.usage import MonthUsage
from starter.web.i18n import Formats

# The drawing's own units; the stylesheet scales it to the width it is given.
WIDTH = 320
DAY_HEIGHT = 128
AXIS_LEFT = 40  # room for the y-axis labels
AXIS_BOTTOM = 20  # room for the dates under the bars
TOP = 10
ROW = 26  # one country per row
NAME_WIDTH = 112
VALUE_WIDTH = 52
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
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title} {desc}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{title}">{escape(words.title)}</title>'
        f'<desc id="{desc}">{escape(words.description)}</desc>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, content: str, css: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" text-anchor="{anchor}">'
        f"{escape(content)}</text>"
    )


def _day(day: date, fmt: Formats) -> str:
    return format_skeleton("MMMd", day, locale=fmt.locale)


def per_day_chart(usage: MonthUsage, fmt: Formats, words: ChartWords) -> Markup:
    """One bar per day of the credit month, on an axis from 0 to a round top."""
    days = usage.per_day
    top = nice_ceiling(max((used for _, used in days), default=0))
    plot_width, plot_height = WIDTH - AXIS_LEFT, DAY_HEIGHT - TOP - AXIS_BOTTOM
    base = TOP + plot_height
    body = [
        f'<line x1="{AXIS_LEFT}" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}" class="chart-grid"/>'
        for y in (TOP, TOP + plot_height / 2, base)
    ]
    body.append(_text(AXIS_LEFT - 6, TOP + 4, fmt.number(top), "chart-label", "end"))
    body.append(_text(AXIS_LEFT - 6, base, "0", "chart-label", "end"))
    band = plot_width / max(len(days), 1)
    for index, (_, used) in enumerate(days):
        if used:
            height = max(plot_height * used / top, 1.0)
            x = AXIS_LEFT + index * band + band * (1 - BAR_SHARE) / 2
            body.append(
                f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{band * BAR_SHARE:.1f}" '
                f'height="{height:.1f}" class="chart-bar"/>'
            )
    if days:
        label_y = DAY_HEIGHT - 4
        body.append(_text(AXIS_LEFT, label_y, _day(days[0][0], fmt), "chart-label"))
        middle = len(days) // 2
        middle_x = AXIS_LEFT + (middle + 0.5) * band
        body.append(_text(middle_x, label_y, _day(days[middle][0], fmt), "chart-label", "middle"))
        body.append(_text(WIDTH, label_y, _day(days[-1][0], fmt), "chart-label", "end"))
    return _svg("usage-per-day", DAY_HEIGHT, words, body)


def country_name(code: str, fmt: Formats) -> str:
    return str(Locale.parse(fmt.locale).territories.get(code, code))


def by_country_chart(usage: MonthUsage, fmt: Formats, words: ChartWords) -> Markup:
    """One row per country, most first: its name, a bar to scale and the credits."""
    rows = [
        (country_name(code, fmt) if code else words.no_country, used)
        for code, used in usage.by_country[:COUNTRIES_SHOWN]
    ]
    most = max((used for _, used in rows), default=0) or 1
    bar_room = WIDTH - NAME_WIDTH - VALUE_WIDTH
    body: list[str] = []
    for index, (name, used) in enumerate(rows):
        y = index * ROW
        width = max(bar_room * used / most, 1.0)
        body.append(_text(0, y + ROW * 0.65, name, "chart-label"))
        body.append(
            f'<rect x="{NAME_WIDTH}" y="{y + ROW * 0.2:.1f}" width="{width:.1f}" '
            f'height="{ROW * 0.6:.1f}" class="chart-bar"/>'
        )
        body.append(_text(WIDTH, y + ROW * 0.65, fmt.number(used), "chart-label", "end"))
    if not words.description:
        listed = "; ".join(f"{name}: {fmt.number(used)}" for name, used in rows)
        words = ChartWords(words.title, listed, words.no_country)
    return _svg("usage-by-country", max(ceil(len(rows) * ROW), ROW), words, body)

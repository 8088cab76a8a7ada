"""Usage at a glance: a month's debits per day and by country (domain.usage) and the
two SVG charts drawn from them (starter/web/usage_chart.py). Pure, no browser."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import UTC, date, datetime

import pytest

from domain.calendar import credit_month
from domain.usage import Debit, month_usage, send_reference, sent_to
from starter.web.i18n import Formats
from starter.web.usage_chart import ChartWords, by_country_chart, nice_ceiling, per_day_chart

SVG = "{http://www.w3.org/2000/svg}"
MONTH = credit_month(date(2026, 11, 26), datetime(2026, 12, 3, tzinfo=UTC))
WORDS = ChartWords(title="Credits used per day", description="<summary> & more", no_country="?")


def at(day: int, month: int = 12) -> datetime:
    return datetime(2026, month, day, 15, tzinfo=UTC)


DEBITS = [
    Debit(at(1), 120, send_reference("BR", 1, 40)),
    Debit(at(1), 30, send_reference("US", 1, 30)),
    Debit(at(3), 300, send_reference("BR", 2, 50)),
    Debit(at(27, 11), 5, "operator revoked"),
    Debit(at(26), 999, send_reference("BR", 1, 999)),  # the next month: not counted
]


def test_a_send_reference_names_its_country():
    assert sent_to(send_reference("BR", 1, 120)) == "BR"
    assert sent_to("renewal 2026-12-26") is None


def test_the_month_is_counted_per_day_and_by_country():
    usage = month_usage(MONTH, DEBITS)
    assert len(usage.per_day) == MONTH.days == 30
    assert usage.per_day[0] == (date(2026, 11, 26), 0)
    spent = {day: used for day, used in usage.per_day if used}
    assert spent == {date(2026, 11, 27): 5, date(2026, 12, 1): 150, date(2026, 12, 3): 300}
    assert usage.by_country == (("BR", 420), ("US", 30), ("", 5))
    assert (usage.total, usage.busiest_day) == (455, (date(2026, 12, 3), 300))
    assert month_usage(MONTH, []).busiest_day is None


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (450, 500), (501, 1000)]
)
def test_the_axis_ends_at_a_round_number(value, top):
    assert nice_ceiling(value) == top


def parsed(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(markup)  # well-formed XML, or this raises


def test_one_bar_per_day_used_to_scale_with_its_title_and_description():
    chart = parsed(per_day_chart(month_usage(MONTH, DEBITS), Formats("en"), WORDS))
    assert chart.get("role") == "img"
    title, desc = chart.find(f"{SVG}title"), chart.find(f"{SVG}desc")
    assert title is not None and title.text == "Credits used per day"
    assert desc is not None and desc.text == "<summary> & more"  # escaped, read back
    assert chart.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    bars = chart.findall(f"{SVG}rect")
    heights = sorted(float(bar.get("height", "0")) for bar in bars)
    assert len(bars) == 3
    assert heights[2] == pytest.approx(heights[1] * 2, rel=0.02)  # 300 against 150
    labels = [text.text for text in chart.findall(f"{SVG}text")]
    assert labels[0] == "500"  # the axis: a round top over the busiest day
    assert labels[1:] == ["Nov 26", "Dec 11", "Dec 25"]
    # Across in percent of the column, so the words keep their size at any width.
    assert all(bar.get("x", "").endswith("%") for bar in bars)
    assert chart.get("viewBox") is None and chart.get("width") == "100%"


def test_countries_by_name_in_the_page_language_most_first():
    usage = month_usage(MONTH, DEBITS)
    english = parsed(by_country_chart(usage, Formats("en"), WORDS))
    texts = [text.text for text in english.findall(f"{SVG}text")]
    assert texts == ["Brazil", "420", "United States", "30", "?", "5"]
    portuguese = parsed(by_country_chart(usage, Formats("pt_BR"), WORDS))
    assert [t.text for t in portuguese.findall(f"{SVG}text")][::2] == [
        "Brasil",
        "Estados Unidos",
        "?",
    ]

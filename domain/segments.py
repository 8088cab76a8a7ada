"""How carriers cut a text into SMS segments, and what a send costs (API.md "Sending").

A text that fits the GSM 03.38 alphabet travels as 7-bit septets: 160 in a
single message, 153 per segment once it is split (the user data header takes
the rest). Characters of the extension table are sent as ESC + character and
count two septets; a segment never splits that pair. Any other text travels
as UCS-2, counted in UTF-16 code units (an emoji is a surrogate pair, two
units): 70 in a single message, 67 per segment, and a pair is never split.

An empty text is still one (empty) message on the wire, so it counts as one
GSM-7 segment; the API refuses empty texts before they get here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Encoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


# GSM 03.38 basic character set (the ESC code point 0x1B itself is not text).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each is sent as ESC + character.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE_SEPTETS = 160
GSM7_SEGMENT_SEPTETS = 153
UCS2_SINGLE_UNITS = 70
UCS2_SEGMENT_UNITS = 67
# Characters outside the Basic Multilingual Plane need a UTF-16 surrogate pair.
BMP_LIMIT = 0xFFFF


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    segments: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _gsm7_cost(ch: str) -> int:
    return 2 if ch in GSM7_EXTENSION else 1


def _ucs2_cost(ch: str) -> int:
    return 2 if ord(ch) > BMP_LIMIT else 1


def _pack(costs: list[int], single: int, per_segment: int) -> int:
    """Segments needed when no character (escape pair, surrogate pair) may be split."""
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            segments, used = segments + 1, 0
        used += cost
    return segments


def count_segments(text: str) -> SegmentCount:
    """The encoding a carrier uses for ``text`` and how many segments it bills."""
    if is_gsm7(text):
        costs = [_gsm7_cost(ch) for ch in text]
        segments = _pack(costs, GSM7_SINGLE_SEPTETS, GSM7_SEGMENT_SEPTETS)
        return SegmentCount(Encoding.GSM7, segments, sum(costs))
    costs = [_ucs2_cost(ch) for ch in text]
    segments = _pack(costs, UCS2_SINGLE_UNITS, UCS2_SEGMENT_UNITS)
    return SegmentCount(Encoding.UCS2, segments, sum(costs))


def credits_for(country_rate: int, segments: int, recipients: int) -> int:
    """Credits a send costs: the country's credits per message × segments × recipients."""
    if country_rate < 1 or segments < 1 or recipients < 1:
        raise ValueError("rate, segments and recipients must all be at least 1")
    return country_rate * segments * recipients

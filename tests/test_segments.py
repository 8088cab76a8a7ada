"""Segment counting as carriers bill it: GSM-7 (with its extension table) and UCS-2."""

from __future__ import annotations

import pytest

from domain.segments import Encoding, count_segments, credits_for

EURO = "€"  # GSM-7 extension table: two septets
CYRILLIC = "ж"  # outside GSM-7: the whole text goes UCS-2
EMOJI = "😀"  # outside the BMP: two UTF-16 code units


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", Encoding.GSM7, 1),
        ("a" * 160, Encoding.GSM7, 1),
        ("a" * 161, Encoding.GSM7, 2),
        ("a" * 306, Encoding.GSM7, 2),
        ("a" * 307, Encoding.GSM7, 3),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!¤¡ÄÖÑÜ§¿äöñüà", Encoding.GSM7, 1),
        # Extension characters count two septets.
        ("a" * 158 + EURO, Encoding.GSM7, 1),
        ("a" * 159 + EURO, Encoding.GSM7, 2),
        (EURO * 80, Encoding.GSM7, 1),
        (EURO * 81, Encoding.GSM7, 2),
        ("{}[]~|^\\" * 10, Encoding.GSM7, 1),
        ("{}[]~|^\\" * 10 + "a", Encoding.GSM7, 2),
        # An escape pair at the 153-septet boundary moves whole to the next segment:
        # 152 + 2 + 152 = 306 septets, which would fit two segments if it could split.
        ("a" * 152 + EURO + "a" * 152, Encoding.GSM7, 3),
        ("a" * 153 + EURO + "a" * 151, Encoding.GSM7, 2),
        (CYRILLIC * 70, Encoding.UCS2, 1),
        (CYRILLIC * 71, Encoding.UCS2, 2),
        (CYRILLIC * 134, Encoding.UCS2, 2),
        (CYRILLIC * 135, Encoding.UCS2, 3),
        # One non-GSM character turns the whole text UCS-2.
        ("a" * 69 + CYRILLIC, Encoding.UCS2, 1),
        ("a" * 70 + CYRILLIC, Encoding.UCS2, 2),
        ("Hello 👋", Encoding.UCS2, 1),
        (EMOJI * 35, Encoding.UCS2, 1),
        (EMOJI * 36, Encoding.UCS2, 2),
        # A surrogate pair at the 67-unit boundary is not split: 66 + 2 + 66 = 134.
        (CYRILLIC * 66 + EMOJI + CYRILLIC * 66, Encoding.UCS2, 3),
        (CYRILLIC * 65 + EMOJI + CYRILLIC * 67, Encoding.UCS2, 2),
    ],
)
def test_segment_table(text: str, encoding: Encoding, segments: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.segments) == (encoding, segments)


def test_units_are_septets_or_code_units() -> None:
    assert count_segments("a" * 10 + EURO).units == 12
    assert count_segments(CYRILLIC + EMOJI).units == 3


def test_credits_multiply_rate_segments_and_recipients() -> None:
    assert credits_for(4, 2, 120) == 960
    assert credits_for(1, 1, 1) == 1
    for bad in ((0, 1, 1), (1, 0, 1), (1, 1, 0)):
        with pytest.raises(ValueError):
            credits_for(*bad)

"""The page's languages: one gettext catalogue per language (``locales/*/messages.po``,
read with Babel at start, so no compile step), chosen by Accept-Language, and
money, numbers and dates formatted for that locale (``documents.formats``)."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from documents.formats import Formats as Formats

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"
DEFAULT_LOCALE = "en"
# The page's languages by their primary subtag: Portuguese is the seed's Brazilian one.
LANGUAGES = {"en": "en", "pt": "pt_BR"}


@cache
def translations(locale: str) -> Translations:
    """The catalogue of ``locale``, compiled in memory from its .po file."""
    with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def negotiate(accept_language: str | None) -> str:
    """The page's locale for an Accept-Language header (RFC 9110 q-values)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.lower()))
    for _, _, tag in sorted(ranked):
        locale = LANGUAGES.get(tag.split("-")[0])
        if locale is not None:
            return locale
    return DEFAULT_LOCALE

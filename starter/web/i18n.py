"""The page's languages: one gettext catalogue per language (``locales/*/messages.po``,
read with Babel at start, so no compile step), chosen by Accept-Language, and
money, numbers and dates formatted for that locale by Babel."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import Translations

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


@dataclass(frozen=True)
class Formats:
    """Numbers, money and dates in one locale (times are shown in UTC, as stored)."""

    locale: str

    @property
    def tag(self) -> str:
        """The BCP 47 tag for ``<html lang>``."""
        return str(Locale.parse(self.locale)).replace("_", "-")

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def money(self, amount_minor: int, currency: str) -> str:
        amount = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
        return format_currency(amount, currency, locale=self.locale)

    def date(self, value: datetime | None) -> str:
        return "" if value is None else format_date(value, "long", locale=self.locale)

    def day(self, value: datetime) -> str:
        """A history row's day, short enough for a phone: "Nov 26, 2026"."""
        return format_date(value, "medium", locale=self.locale)

    def clock(self, value: datetime) -> str:
        """Its time of day: "7:04 PM" (UTC, as every time on the page)."""
        return format_time(value, "short", tzinfo=value.tzinfo, locale=self.locale)

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(value, "medium", tzinfo=value.tzinfo, locale=self.locale) + " UTC"

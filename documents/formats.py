"""Numbers, money and dates as people of one locale read them, by Babel: the billing
page and the receipts format every figure here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency, format_decimal, get_currency_precision

from domain.enums import Locale as AccountLocale


@dataclass(frozen=True)
class Formats:
    """Numbers, money and dates in one locale (times are shown in UTC, as stored)."""

    locale: str

    @classmethod
    def of(cls, locale: AccountLocale) -> Formats:
        """An account's locale (``pt-BR``) in Babel's spelling (``pt_BR``)."""
        return cls(str(Locale.parse(locale.value, sep="-")))

    @property
    def tag(self) -> str:
        """The BCP 47 tag for ``<html lang>``."""
        return str(Locale.parse(self.locale)).replace("_", "-")

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def money(self, amount_minor: int, currency: str) -> str:
        """``123456, "BRL"`` → ``R$ 1.234,56`` in pt-BR, ``R$1,234.56`` in en."""
        amount = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
        return format_currency(amount, currency, locale=self.locale)

    def country(self, code: str) -> str:
        """``BR`` → ``Brasil`` in pt-BR, ``Brazil`` in en."""
        return str(Locale.parse(self.locale).territories.get(code, code))

    def countries(self, codes: Iterable[str]) -> list[tuple[str, str]]:
        """``(code, name)`` of each country, in the order of their names."""
        return sorted(((code, self.country(code)) for code in codes), key=lambda c: c[1])

    def date(self, value: datetime | None) -> str:
        """``2 de janeiro de 2027`` in pt-BR, ``January 2, 2027`` in en."""
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

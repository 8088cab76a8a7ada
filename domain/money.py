"""Money as people read it: integer minor units shown with their currency."""

from __future__ import annotations

# Symbols for the currencies we show with one; any other is shown by its ISO code.
CURRENCY_SYMBOLS = {"USD": "$", "BRL": "R$", "EUR": "€", "GBP": "£"}
MINOR_PER_MAJOR = 100


def format_money(amount_minor: int, currency: str) -> str:
    """``1800, "USD"`` → ``$18.00``; ``1800, "SEK"`` → ``SEK 18.00``."""
    major, minor = divmod(abs(amount_minor), MINOR_PER_MAJOR)
    sign = "-" if amount_minor < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    prefix = symbol if symbol is not None else f"{currency} "
    return f"{sign}{prefix}{major}.{minor:02d}"

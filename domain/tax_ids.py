"""Tax ids on receipts: checked by their check digits, stored normalised, shown formatted.

A Brazilian buyer is identified by a CPF (a person, 11 digits) or a CNPJ (a company,
14 digits), each with two check digits; elsewhere a VAT id, checked where
python-stdnum knows the country's rules and kept as given (trimmed) where it does not.
"""

from __future__ import annotations

from stdnum import get_cc_module
from stdnum.br import cnpj, cpf
from stdnum.exceptions import ValidationError

BRAZIL = "BR"
CPF_DIGITS = 11
CNPJ_DIGITS = 14
# A tax id kept as given (a country python-stdnum does not know) is at most this long.
MAX_TAX_ID_CHARS = 32


class InvalidTaxId(ValueError):
    """The tax id does not check out for its country; the message says why."""


def normalise_tax_id(country: str, value: str) -> str:
    """The tax id as stored: digits only for a CPF or CNPJ, the compact form for a VAT
    id python-stdnum checks, else the text as given (trimmed)."""
    if country == BRAZIL:
        digits = cnpj.compact(value)  # without the dots, dash, slash and spaces
        module = {CPF_DIGITS: cpf, CNPJ_DIGITS: cnpj}.get(len(digits))
        if module is None or not digits.isdigit():
            raise InvalidTaxId("A Brazilian tax id is a CPF (11 digits) or a CNPJ (14 digits).")
        try:
            return str(module.validate(digits))
        except ValidationError as error:
            kind = "CPF" if module is cpf else "CNPJ"
            raise InvalidTaxId(f"This {kind} is not valid: {error}") from error
    vat = get_cc_module(country.lower(), "vat")
    if vat is None:
        return value.strip()
    try:
        return str(vat.validate(value))
    except ValidationError as error:
        raise InvalidTaxId(f"This VAT id is not valid for {country}: {error}") from error


def format_tax_id(country: str, stored: str) -> str:
    """``12345678909`` → ``123.456.789-09``; ``12345678000195`` → ``12.345.678/0001-95``;
    a VAT id in its country's written form where python-stdnum has one."""
    if country == BRAZIL:
        return cpf.format(stored) if len(stored) == CPF_DIGITS else cnpj.format(stored)
    vat = get_cc_module(country.lower(), "vat")
    formatter = getattr(vat, "format", None)
    return str(formatter(stored)) if formatter is not None else stored


def brazilian_kind(country: str | None, tax_id: str) -> str | None:
    """``CPF`` or ``CNPJ`` for a Brazilian tax id, stored or formatted; None elsewhere."""
    if country != BRAZIL:
        return None
    digits = sum(character.isdigit() for character in tax_id)
    return "CPF" if digits == CPF_DIGITS else "CNPJ"

"""Who a receipt is made out to: the account's billing details (API.md "Billing details,
receipts and mail"), checked once where they come in.

The tax id is checked against the address's country (``domain.tax_ids``) and kept
normalised; every answer shows it formatted. The seller's own details (the setting
``SMS_SELLER``) take the same shape and the same checks.
"""

from __future__ import annotations

from typing import Annotated

from babel import Locale as BabelLocale
from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator

from domain.inputs import Email, InputModel, Name
from domain.tax_ids import (
    BRAZIL,
    MAX_TAX_ID_CHARS,
    InvalidTaxId,
    format_tax_id,
    normalise_tax_id,
)

MAX_LINE_CHARS = 200
MAX_SHORT_CHARS = 64
# ISO 3166-1 alpha-2 codes as Babel (CLDR) names them; CLDR's regions that are not
# countries (EU, UN, ZZ …) are letters too, so they are left out by name.
_NOT_COUNTRIES = {"EU", "EZ", "QO", "UN", "ZZ"}
COUNTRIES = frozenset(
    code
    for code in map(str, BabelLocale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)

Line = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LINE_CHARS, pattern=r"^[^\x00]+$")
]
Short = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_SHORT_CHARS, pattern=r"^[^\x00]+$")
]
TaxIdText = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TAX_ID_CHARS, pattern=r"^[^\x00]+$")
]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class Address(InputModel):
    line1: Line
    line2: Line | None = None
    city: Short
    state: Short | None = None
    postal_code: Short | None = None
    country: CountryCode

    @field_validator("country")
    @classmethod
    def _a_country(cls, country: str) -> str:
        if country not in COUNTRIES:
            raise ValueError("must be an ISO 3166-1 alpha-2 country code, such as BR or US")
        return country


class BillingDetails(InputModel):
    """The body of ``PUT …/billing-details`` and what is stored: ``tax_id`` normalised
    (digits only for a CPF or CNPJ). Brazil needs a tax id; elsewhere it is optional."""

    legal_name: Name
    email: Email
    address: Address
    # After ``address``: its check reads the country. Checked when left out too.
    tax_id: TaxIdText | None = Field(default=None, validate_default=True)

    @field_validator("tax_id")
    @classmethod
    def _checked_for_the_country(cls, tax_id: str | None, info: ValidationInfo) -> str | None:
        address = info.data.get("address")
        if address is None:  # a bad address is reported on its own
            return tax_id
        if tax_id is None:
            if address.country == BRAZIL:
                raise ValueError("A Brazilian billing address needs a CPF or CNPJ.")
            return None
        try:
            return normalise_tax_id(address.country, tax_id)
        except InvalidTaxId as error:
            raise ValueError(str(error)) from error

    @property
    def formatted_tax_id(self) -> str | None:
        if self.tax_id is None:
            return None
        return format_tax_id(self.address.country, self.tax_id)


class AddressOut(BaseModel):
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str | None
    country: str


class BillingDetailsOut(BaseModel):
    """The details as answered: the tax id formatted (``12.345.678/0001-95``)."""

    legal_name: str
    tax_id: str | None
    email: str
    address: AddressOut

    @classmethod
    def of(cls, details: BillingDetails) -> BillingDetailsOut:
        return cls(
            legal_name=details.legal_name,
            tax_id=details.formatted_tax_id,
            email=details.email,
            address=AddressOut.model_validate(details.address.model_dump()),
        )

"""A2P 10DLC registration: what carriers need to know, and the messages the
registration workflow exchanges with the API and its activities.

US carriers vet a *brand* (the business that sends) and then a *campaign* (what
it sends and how recipients opt in and out). The fields follow what The Campaign
Registry asks for; everything is validated here so that the workflow only ever
sees details a carrier could accept.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.enums import RegistrationStatus
from domain.inputs import MAX_EMAIL_CHARS, Choice, InputModel

# ``[^\x00]``: no NUL (InputModel refuses it; the pattern tells the OpenAPI document).
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[^\x00]+$"),
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=20, max_length=2048, pattern=r"^[^\x00]+$"),
]
SampleMessage = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=20, max_length=1024, pattern=r"^[^\x00]+$"),
]
Keyword = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,20}$")]
Email = Annotated[
    str,
    StringConstraints(
        pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$", max_length=MAX_EMAIL_CHARS
    ),
]
PhoneE164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{7,14}$")]
Website = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/$.?#][^\s]*$", max_length=255)]
# A US Employer Identification Number: nine digits, written 12-3456789 or 123456789.
TaxId = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}-?[0-9]{7}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

MAX_SAMPLE_MESSAGES = 5
MAX_KEYWORDS = 10
# Carriers require recipients to be able to stop messages and ask for help.
REQUIRED_OPT_OUT_KEYWORD = "STOP"
REQUIRED_HELP_KEYWORD = "HELP"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Input(InputModel):
    """Details a customer submits: strict and bounded like every request body."""

    model_config = ConfigDict(frozen=True)


class EntityType(StrEnum):
    PRIVATE_PROFIT = "private_profit"
    PUBLIC_PROFIT = "public_profit"
    NON_PROFIT = "non_profit"
    GOVERNMENT = "government"
    SOLE_PROPRIETOR = "sole_proprietor"


class Vertical(StrEnum):
    AGRICULTURE = "agriculture"
    COMMUNICATION = "communication"
    CONSTRUCTION = "construction"
    EDUCATION = "education"
    ENTERTAINMENT = "entertainment"
    FINANCIAL = "financial"
    HEALTHCARE = "healthcare"
    HOSPITALITY = "hospitality"
    INSURANCE = "insurance"
    MANUFACTURING = "manufacturing"
    NON_PROFIT = "non_profit"
    PROFESSIONAL = "professional"
    REAL_ESTATE = "real_estate"
    RETAIL = "retail"
    TECHNOLOGY = "technology"
    TRANSPORTATION = "transportation"


class UseCase(StrEnum):
    MARKETING = "marketing"
    MIXED = "mixed"
    CUSTOMER_CARE = "customer_care"
    ACCOUNT_NOTIFICATION = "account_notification"
    DELIVERY_NOTIFICATION = "delivery_notification"
    TWO_FACTOR_AUTHENTICATION = "two_factor_authentication"
    LOW_VOLUME = "low_volume"


class Address(_Input):
    street: Text
    city: Text
    state: Text
    postal_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 -]{3,10}$")]
    country: CountryCode


class BrandDetails(_Input):
    # The OpenAPI document states the rule of ``_tax_id_unless_sole_proprietor``.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"entity_type": {"const": "sole_proprietor"}}},
                {"required": ["tax_id"], "properties": {"tax_id": {"type": "string"}}},
            ]
        }
    )

    legal_name: Text
    entity_type: Choice[EntityType]
    # Sole proprietors register without an EIN; every other entity needs one.
    tax_id: TaxId | None = None
    website: Website
    vertical: Choice[Vertical]
    contact_email: Email
    contact_phone: PhoneE164
    address: Address

    @model_validator(mode="after")
    def _tax_id_unless_sole_proprietor(self) -> BrandDetails:
        if self.tax_id is None and self.entity_type is not EntityType.SOLE_PROPRIETOR:
            raise ValueError("tax_id (EIN) is required unless entity_type is sole_proprietor")
        return self


class CampaignDetails(_Input):
    use_case: Choice[UseCase]
    description: LongText
    sample_messages: Annotated[
        list[SampleMessage], Field(min_length=1, max_length=MAX_SAMPLE_MESSAGES)
    ]
    opt_in_description: LongText
    opt_out_keywords: Annotated[
        list[Keyword],
        Field(
            min_length=1,
            max_length=MAX_KEYWORDS,
            json_schema_extra={"contains": {"const": REQUIRED_OPT_OUT_KEYWORD}},
        ),
    ] = [REQUIRED_OPT_OUT_KEYWORD]
    help_keywords: Annotated[
        list[Keyword],
        Field(
            min_length=1,
            max_length=MAX_KEYWORDS,
            json_schema_extra={"contains": {"const": REQUIRED_HELP_KEYWORD}},
        ),
    ] = [REQUIRED_HELP_KEYWORD]
    help_message: LongText
    embedded_links: bool = False
    embedded_phone: bool = False

    @model_validator(mode="after")
    def _carrier_keywords(self) -> CampaignDetails:
        if REQUIRED_OPT_OUT_KEYWORD not in self.opt_out_keywords:
            raise ValueError(f"opt_out_keywords must include {REQUIRED_OPT_OUT_KEYWORD}")
        if REQUIRED_HELP_KEYWORD not in self.help_keywords:
            raise ValueError(f"help_keywords must include {REQUIRED_HELP_KEYWORD}")
        return self


class RegistrationDetails(_Input):
    """The body of a registration (or a corrected resubmission); its example in the
    OpenAPI document is ``starter/api/registration_example.py``."""

    brand: BrandDetails
    campaign: CampaignDetails


CORRECTABLE = frozenset({RegistrationStatus.FAILED, RegistrationStatus.TIMED_OUT})
IN_REVIEW = frozenset({RegistrationStatus.BRAND_PENDING, RegistrationStatus.CAMPAIGN_PENDING})


def resubmit_refusal(status: RegistrationStatus, taking_corrections: bool = True) -> str | None:
    """Why corrected details may not replace a registration's, or None: only a failed or
    timed-out registration takes them (while its run still waits for corrections); one
    in review or approved takes none. A registration with none yet is a first submission."""
    if taking_corrections and status in CORRECTABLE:
        return None
    return (
        f"The registration is {status.value}; only a failed or timed-out registration "
        "can be resubmitted."
    )

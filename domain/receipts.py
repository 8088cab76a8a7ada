"""Receipts: the document every succeeded capture and refund gets (API.md "Billing
details, receipts and mail").

A receipt is issued in the transaction that records its payment, and its number
is taken there from a per-year counter: ``SMS-{YYYY}-{NNNNNN}``, gap-free and unique
across the service, because a payment rolled back takes its number with it. It keeps
what it said when it was issued: the lines, the total, who billed whom.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.billing_details import AddressOut, BillingDetails, BillingDetailsOut

NUMBER_PREFIX = "SMS"
NUMBER_DIGITS = 6


class ReceiptKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


def receipt_number(year: int, sequence: int) -> str:
    """``2026, 1`` → ``SMS-2026-000001``."""
    return f"{NUMBER_PREFIX}-{year:04d}-{sequence:0{NUMBER_DIGITS}d}"


class ReceiptLine(BaseModel):
    """One line of a receipt: what was paid (or given back) for, and how much."""

    model_config = ConfigDict(frozen=True)

    description: str
    amount_minor: int


class BilledParty(BaseModel):
    """Who billed or was billed, as on the receipt: the legal name, the tax id
    formatted, the email and address; null where the account gave none."""

    legal_name: str
    tax_id: str | None = None
    email: str | None = None
    address: AddressOut | None = None

    @classmethod
    def of(cls, details: BillingDetails) -> BilledParty:
        return cls.model_validate(BillingDetailsOut.of(details).model_dump())


class Receipt(BaseModel):
    """A receipt as API.md shows it, plus the seller who issued it."""

    receipt_id: str
    number: str
    issued_at: datetime
    kind: ReceiptKind
    payment_id: str
    # The receipt this one refunds (a refund's), else null.
    refunds: str | None
    # That receipt's number, for the document's "refunds receipt SMS-…" line.
    refunds_number: str | None = None
    amount_minor: int
    currency: str
    lines: list[ReceiptLine]
    billed_to: BilledParty
    seller: BilledParty

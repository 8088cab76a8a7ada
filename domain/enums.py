"""The closed vocabularies of the product (DESIGN.md §1, API.md)."""

from enum import StrEnum


class Plan(StrEnum):
    STARTER = "starter"
    PLUS = "plus"
    PROFESSIONAL = "professional"
    ENTERPRISE = "enterprise"


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def interval(self) -> str:
        """The word API.md uses for the billing interval of this cycle."""
        return "month" if self is BillingCycle.MONTHLY else "year"


class Role(StrEnum):
    PRIMARY_ADMIN = "primary_admin"
    ADMIN = "admin"
    USER = "user"


class AddonStatus(StrEnum):
    INACTIVE = "inactive"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLING = "cancelling"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class PurchaseStatus(StrEnum):
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    PROCESSING = "processing"
    COMPLETED = "completed"
    DECLINED = "declined"
    REFUNDED = "refunded"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    FAILED = "failed"  # the provider refused the payment request itself; nothing captured
    NEEDS_ATTENTION = "needs_attention"  # captured, and neither granted nor refunded


class ItemType(StrEnum):
    ADDON = "addon"
    CREDIT_PACK = "credit_pack"


class GrantSource(StrEnum):
    """Where a block of credits came from."""

    ADDON = "addon"  # the add-on tier's credits (purchase or monthly renewal)
    PACK = "pack"  # a recurring credit pack's credits bought mid-period
    RENEWAL = "renewal"  # the monthly allotment granted at a boundary
    ADJUSTMENT = "adjustment"  # operator goodwill
    TOP_UP = "top_up"  # one-time credits of an auto top-up


class EntryKind(StrEnum):
    GRANT = "grant"
    EXPIRE = "expire"
    DEBIT = "debit"
    REFUND = "refund"
    ADJUST = "adjust"


class PaymentKind(StrEnum):
    CAPTURE = "capture"
    REFUND = "refund"


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class RegistrationStatus(StrEnum):
    NONE = "none"
    BRAND_PENDING = "brand_pending"
    CAMPAIGN_PENDING = "campaign_pending"
    APPROVED = "approved"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


class Currency(StrEnum):
    """The currencies the catalogue prices every item in; an account has one for life
    once it has bought anything."""

    USD = "USD"
    BRL = "BRL"


class Locale(StrEnum):
    """The language (and number format) of an account's receipts and mail."""

    EN = "en"
    PT_BR = "pt-BR"

"""What the billing page shows, read through the same application functions that answer
the JSON API (application/billing_view.py, receipts.py and billing_details.py), and
what the signed-in user may do there (application/authorization.py), so the page and
the API cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass

from application import billing_details, receipts
from application.authorization import Action, allowed_actions, authorize
from application.billing_view import (
    BillingPage,
    LedgerEntryOut,
    Offers,
    PaymentOut,
    overview,
)
from application.callers import Caller
from application.context import Services
from contracts.purchase import PurchaseView
from domain.billing_details import BillingDetailsOut
from domain.enums import AddonStatus, ItemType, PurchaseStatus
from domain.receipts import Receipt

RECENT = 10


@dataclass(frozen=True)
class ReviewLine:
    """One line of the quote: what is bought and what is due for it now."""

    item_type: ItemType
    credits_per_month: int
    amount_minor: int
    prorated: bool


@dataclass(frozen=True)
class BillingView:
    caller: Caller
    page: BillingPage
    offers: Offers
    ledger: list[LedgerEntryOut]
    payments: list[PaymentOut]
    purchase: PurchaseView | None
    allowed: frozenset[Action]
    receipts: list[Receipt]
    # Shown to whoever may change them (the table's billing_details); None: not set yet.
    billing_details: BillingDetailsOut | None

    def may(self, action: str) -> bool:
        """Whether the signed-in user may take ``action`` (authorization's table)."""
        return Action(action) in self.allowed

    @property
    def eligible(self) -> bool:
        """Whether the account's plan may have the add-on (the catalogue says)."""
        return self.page.eligible

    @property
    def addon_active(self) -> bool:
        return self.page.addon.status is AddonStatus.ACTIVE

    @property
    def reviewing(self) -> bool:
        return (
            self.purchase is not None
            and self.purchase.status is PurchaseStatus.AWAITING_CONFIRMATION
            and self.purchase.quote is not None
        )

    def review_lines(self) -> list[ReviewLine]:
        """The quote's lines named from the catalogue (the page names them per locale)."""
        if self.purchase is None or self.purchase.quote is None:
            return []
        item = self.purchase.item
        offers = (
            self.offers.addon_tiers if item.type is ItemType.ADDON else self.offers.credit_packs
        )
        offer = next(o for o in offers if o.id == item.item_id)
        return [
            ReviewLine(
                item_type=item.type,
                credits_per_month=offer.credits_per_month,
                amount_minor=line.amount_minor,
                prorated=line.amount_minor != offer.price_minor,
            )
            for line in self.purchase.quote.lines
        ]


def load(services: Services, caller: Caller, purchase_id: str | None) -> BillingView:
    permit = authorize(caller, Action.READ_BILLING, caller.account_id)
    shown = overview(services, permit, purchase_id, RECENT)
    allowed = allowed_actions(caller)
    details = None
    if Action.BILLING_DETAILS in allowed:
        details_permit = authorize(caller, Action.BILLING_DETAILS, caller.account_id)
        details = billing_details.current(services, details_permit)
    return BillingView(
        caller=caller,
        page=shown.billing,
        offers=shown.offers,
        ledger=shown.ledger,
        payments=shown.payments,
        purchase=shown.purchase,
        allowed=allowed,
        receipts=receipts.list_receipts(services, permit, RECENT).receipts,
        billing_details=details,
    )

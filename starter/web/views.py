"""What the billing page shows, read through the same functions that answer the
JSON API (starter/api/routes/billing.py, purchases.py, receipts.py and
billing_details.py), so the page and the API cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass

from application.context import Services
from application.errors import ApiError
from contracts.purchase import PurchaseView
from domain.billing_details import BillingDetailsOut
from domain.enums import AddonStatus, ItemType, Plan, PurchaseStatus
from domain.receipts import Receipt
from starter.api.deps import Caller
from starter.api.routes import billing, billing_details, purchases, receipts

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
    page: billing.BillingPage
    offers: billing.Offers
    ledger: list[billing.LedgerEntryOut]
    payments: list[billing.PaymentOut]
    purchase: PurchaseView | None
    receipts: list[Receipt]
    # Shown to whoever may see them (the billing permission); None: not set yet.
    billing_details: BillingDetailsOut | None = None

    @property
    def eligible(self) -> bool:
        return self.page.plan is not Plan.STARTER

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
    account_id = caller.account_id
    with services.sessions() as session:
        purchase = None
        if purchase_id:
            try:
                purchase = purchases.get_purchase(account_id, purchase_id, caller, services)
            except ApiError:
                purchase = None  # another account's or unknown: shown as nothing
        return BillingView(
            caller=caller,
            page=billing.billing_page(account_id, caller, session, services),
            offers=billing.offers(account_id, caller, session, services),
            ledger=billing.ledger(account_id, caller, session, limit=RECENT).entries,
            payments=billing.payments(account_id, caller, session, limit=RECENT).payments,
            purchase=purchase,
            receipts=receipts.list_receipts(account_id, caller, session, limit=RECENT).receipts,
            billing_details=billing_details.details_or_none(session, caller),
        )

"""What the billing page shows, read through the same application functions that answer
the JSON API (application/billing_view.py, billing_history.py, receipts.py and
billing_details.py), and what the signed-in user may do there
(application/authorization.py), so the page and the API cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.support import Translations

from application import billing_details, receipts
from application.authorization import Action, allowed_actions, authorize
from application.billing_history import LedgerEntryOut, PaymentOut
from application.billing_page import PageExtras, page_extras
from application.billing_view import BillingPage, Offers, overview
from application.callers import Caller
from application.context import Services
from contracts.purchase import PurchaseView
from domain.addon_outlook import LIVE_STATUSES
from domain.billing_details import BillingDetailsOut
from domain.enums import AddonStatus, ItemType, PurchaseStatus
from domain.errors import ErrorCode
from domain.pricing import TierDirection
from domain.purchase import HELD_ADDON_STATUSES, eligibility_refusal
from domain.receipts import Receipt
from starter.web.history import History
from starter.web.i18n import Formats
from starter.web.notices import N_, NOTICES

RECENT = 10


@dataclass(frozen=True)
class ReviewLine:
    """One line of the quote: what is bought and what is due for it now; for a tier
    change, from which tier and when it takes effect (the API's own line says so)."""

    item_type: ItemType
    credits_per_month: int
    amount_minor: int
    prorated: bool
    direction: TierDirection | None = None
    from_credits: int | None = None
    effective_at: datetime | None = None


# Why the page does not offer an action now (gettext message ids), beside who may.
NO_ADDON_YET = N_("Extra credits need an active SMS add-on: add SMS to your plan first.")
RESUME_FIRST = N_("The SMS add-on is cancelled. Resume it to buy extra credits or change its tier.")
PAYMENT_OVERDUE = N_("A payment is overdue: extra credits and tier changes wait until it is paid.")
IN_FLIGHT = N_("A purchase is being processed. Reload the page in a moment to see it.")
READ_ONLY = N_(
    "You can see this account's billing, but you cannot change it: only the primary admin"
    " or a user with the billing permission can buy, change or cancel. Ask your primary"
    " admin for the billing permission."
)
_NOT_ACTIVE = {
    AddonStatus.CANCELLING: RESUME_FIRST,
    AddonStatus.PAST_DUE: PAYMENT_OVERDUE,
}


@dataclass(frozen=True)
class BillingView:
    caller: Caller
    page: BillingPage
    offers: Offers
    ledger: list[LedgerEntryOut]
    payments: list[PaymentOut]
    purchase: PurchaseView | None
    allowed: frozenset[Action]
    extras: PageExtras
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
    def cancelling(self) -> bool:
        return self.page.addon.status is AddonStatus.CANCELLING

    @property
    def low_balance(self) -> bool:
        threshold = self.extras.low_balance_threshold
        live = self.page.addon.status in LIVE_STATUSES
        return live and threshold is not None and self.page.credits.balance < threshold

    def why_no_packs(self) -> str | None:
        """Why Edit (extra credits) is not offered now, in words; None: it is. The
        purchase's own eligibility rule decides, so Continue never records a refusal."""
        return self._why_not(ItemType.CREDIT_PACK, Action.BUY)

    def why_no_tier(self) -> str | None:
        """Why Add to plan / Change tier is not offered now; None: it is."""
        action = Action.CHANGE_TIER if self.addon_active else Action.BUY
        return self._why_not(ItemType.ADDON, action)

    def _why_not(self, item_type: ItemType, action: Action) -> str | None:
        if action not in self.allowed:
            return READ_ONLY
        status, current = self.page.addon.status, self.page.addon.tier
        another = next((t.id for t in self.offers.addon_tiers if t.id != current), None)
        refused = eligibility_refusal(
            item_type=item_type,
            plan_eligible=self.eligible,
            addon_status=status,
            tier=another if item_type is ItemType.ADDON else None,
            current_tier=current if status in HELD_ADDON_STATUSES else None,
        )
        if refused is not None:
            code = refused[0]
            if code is ErrorCode.PLAN_NOT_ELIGIBLE:
                return NOTICES[code].message
            return _NOT_ACTIVE.get(status, NO_ADDON_YET)
        return IN_FLIGHT if self.extras.in_flight else None

    @property
    def reviewing(self) -> bool:
        return (
            self.purchase is not None
            and self.purchase.status is PurchaseStatus.AWAITING_CONFIRMATION
            and self.purchase.quote is not None
        )

    def credits_of(self) -> dict[str, int]:
        """Each catalogue item's credits per month, by id."""
        items = [*self.offers.addon_tiers, *self.offers.credit_packs]
        return {item.id: item.credits_per_month for item in items}

    def history(self, fmt: Formats, translations: Translations) -> History:
        shown = {payment.payment_id: payment for payment in self.payments}
        return History(self.extras.purchases, shown, self.credits_of(), fmt, translations.gettext)

    def review_lines(self) -> list[ReviewLine]:
        """The quote's lines named from the catalogue (the page names them per locale)."""
        if self.purchase is None or self.purchase.quote is None:
            return []
        item, quote = self.purchase.item, self.purchase.quote
        offers = (
            self.offers.addon_tiers if item.type is ItemType.ADDON else self.offers.credit_packs
        )
        offer = next(o for o in offers if o.id == item.item_id)
        change = quote.tier_change
        return [
            ReviewLine(
                item_type=item.type,
                credits_per_month=offer.credits_per_month,
                amount_minor=line.amount_minor,
                prorated=line.amount_minor != offer.price_minor,
                direction=None if change is None else change.direction,
                from_credits=None if change is None else self.credits_of().get(change.from_tier),
                effective_at=quote.effective_at,
            )
            for line in quote.lines
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
        extras=page_extras(services, permit, shown.billing),
        receipts=receipts.list_receipts(services, permit, RECENT).receipts,
        billing_details=details,
    )

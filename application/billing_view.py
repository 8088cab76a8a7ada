"""What the billing data shows (``GET …/sms``, ``GET …/sms/offers``) and the billing page
with it: the add-on and credits, what the catalogue offers the account's plan, and its
recent credit and payment history (``application.billing_history``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session

from application import purchases
from application.authorization import Action, Permit
from application.billing_history import LedgerEntryOut, PaymentOut, ledger_of, payments_of
from application.context import Services
from application.errors import ApiError
from contracts.purchase import PurchaseView
from contracts.subscription import AddonLine
from domain.addon_outlook import LIVE_STATUSES, PendingChange
from domain.catalogue import Catalogue, CatalogueItem
from domain.eligibility import plan_refusal
from domain.enums import AddonStatus, BillingCycle, Currency, Plan
from domain.errors import ErrorCode
from store.db import read_only
from store.lines import addon_line
from store.models import Account, AddonSubscription
from store.outlook import outlook_of


class AddonOut(BaseModel):
    """The add-on's figures are its outlook's (domain.addon_outlook), the same the
    billing page and the subscription's details line show."""

    status: AddonStatus
    tier: str | None = None
    monthly_credits: int | None = None
    # What the next renewal grants (a pack ending or a downgrade starting changes it).
    monthly_credits_after_renewal: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    next_charge_at: datetime | None = None
    next_charge_minor: int | None = None
    currency: str | None = None
    ends_at: datetime | None = None
    # The recurring lines (the tier and each credit pack); empty once it has ended.
    lines: list[AddonLine] = []
    # Changes already decided that wait for a renewal: a pack ending, a downgrade
    # starting, the add-on ending.
    pending_changes: list[PendingChange] = []


class CreditsOut(BaseModel):
    balance: int
    expires_at: datetime | None


class IneligibleReason(BaseModel):
    code: ErrorCode
    message: str


class BillingPage(BaseModel):
    account_id: str
    plan: Plan
    billing_cycle: BillingCycle
    addon: AddonOut
    credits: CreditsOut
    # Whether the account may buy at all (its plan); null reason when it may.
    eligible: bool
    ineligible_reason: IneligibleReason | None


class Offer(BaseModel):
    id: str
    name: str
    credits_per_month: int
    price_minor: int


class Offers(BaseModel):
    currency: str
    interval: str
    addon_tiers: list[Offer]
    credit_packs: list[Offer]
    eligible: bool
    ineligible_reason: IneligibleReason | None


def _account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"Account {account_id} was not found.")
    return account


def _ineligible_reason(catalogue: Catalogue, account: Account) -> IneligibleReason | None:
    refusal = plan_refusal(catalogue, Plan(account.plan))
    return None if refusal is None else IneligibleReason.model_validate(refusal.model_dump())


def _addon(session: Session, account: Account) -> AddonOut:
    addon = session.get(AddonSubscription, account.id)
    if addon is None:
        return AddonOut(status=AddonStatus.INACTIVE)
    outlook = outlook_of(session, addon, account.billing_anchor)
    if outlook is None or outlook.status not in LIVE_STATUSES:
        return AddonOut(
            status=AddonStatus(addon.status),
            tier=addon.tier,
            monthly_credits=addon.monthly_credits,
            currency=addon.currency,
            ends_at=addon.ends_at,
        )
    charge = outlook.next_charge
    return AddonOut(
        status=outlook.status,
        tier=addon.tier,
        monthly_credits=outlook.monthly_credits,
        monthly_credits_after_renewal=outlook.monthly_credits_after_renewal,
        period_start=addon.period_start,
        period_end=addon.period_end,
        next_charge_at=None if charge is None else charge.at,
        next_charge_minor=None if charge is None else charge.amount_minor,
        currency=outlook.currency,
        ends_at=addon.ends_at,
        lines=[addon_line(line, BillingCycle(addon.billing_cycle)) for line in outlook.lines],
        pending_changes=list(outlook.pending),
    )


def _billing(session: Session, catalogue: Catalogue, account_id: str) -> BillingPage:
    account = _account(session, account_id)
    addon = _addon(session, account)
    reason = _ineligible_reason(catalogue, account)
    return BillingPage(
        account_id=account.id,
        plan=Plan(account.plan),
        billing_cycle=BillingCycle(account.billing_cycle),
        addon=addon,
        credits=CreditsOut(balance=account.credit_balance, expires_at=addon.period_end),
        eligible=reason is None,
        ineligible_reason=reason,
    )


def _offer(listed: CatalogueItem, currency: Currency, cycle: BillingCycle) -> Offer:
    item = listed.priced(currency)
    return Offer(
        id=item.id,
        name=item.name,
        credits_per_month=item.credits_per_month,
        price_minor=item.price_minor(cycle),
    )


def _offers(session: Session, catalogue: Catalogue, account_id: str) -> Offers:
    account = _account(session, account_id)
    cycle, currency = BillingCycle(account.billing_cycle), Currency(account.currency)
    reason = _ineligible_reason(catalogue, account)
    return Offers(
        currency=currency,
        interval=cycle.interval,
        addon_tiers=[_offer(tier, currency, cycle) for tier in catalogue.addon_tiers],
        credit_packs=[_offer(pack, currency, cycle) for pack in catalogue.credit_packs],
        eligible=reason is None,
        ineligible_reason=reason,
    )


def billing(services: Services, permit: Permit) -> BillingPage:
    """``GET …/sms``: the add-on, the credits and whether the plan may buy."""
    permit.require(Action.READ_BILLING)
    with read_only(services.sessions) as session:
        return _billing(session, services.catalogue, permit.account_id)


def offers(services: Services, permit: Permit) -> Offers:
    """What the catalogue offers, priced in the account's currency for its billing cycle."""
    permit.require(Action.READ_BILLING)
    with read_only(services.sessions) as session:
        return _offers(session, services.catalogue, permit.account_id)


@dataclass(frozen=True)
class Overview:
    """Everything the billing page shows, as the JSON API answers each part."""

    billing: BillingPage
    offers: Offers
    ledger: list[LedgerEntryOut]
    payments: list[PaymentOut]
    purchase: PurchaseView | None


def overview(services: Services, permit: Permit, purchase_id: str | None, recent: int) -> Overview:
    """The page's data in one read; ``purchase_id`` is shown when it is the account's."""
    permit.require(Action.READ_BILLING)
    shown = None
    if purchase_id:
        try:
            shown = purchases.read(services, permit, purchase_id)
        except ApiError:
            shown = None  # another account's or unknown: shown as nothing
    account_id, catalogue = permit.account_id, services.catalogue
    with read_only(services.sessions) as session:
        return Overview(
            billing=_billing(session, catalogue, account_id),
            offers=_offers(session, catalogue, account_id),
            ledger=ledger_of(session, account_id, recent).entries,
            payments=payments_of(session, account_id, recent).payments,
            purchase=shown,
        )

"""The billing page's data: the add-on and credits, offers, the ledger and payments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from application.errors import ApiError
from contracts.subscription import AddonLine
from domain.catalogue import Catalogue, CatalogueItem
from domain.eligibility import plan_refusal
from domain.enums import (
    AddonStatus,
    BillingCycle,
    Currency,
    EntryKind,
    PaymentKind,
    PaymentStatus,
    Plan,
)
from domain.errors import ErrorCode
from starter.api.deps import AccountCaller, ReadSession, ServicesDep
from store.lines import addon_lines
from store.models import Account, AddonSubscription, CreditEntry, Payment

router = APIRouter(prefix="/v1/accounts/{account_id}/sms", tags=["billing"])

Limit = Annotated[int, Query(ge=1, le=500)]
DEFAULT_LIMIT = 50


class AddonOut(BaseModel):
    status: AddonStatus
    tier: str | None = None
    monthly_credits: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    next_charge_at: datetime | None = None
    next_charge_minor: int | None = None
    currency: str | None = None
    ends_at: datetime | None = None
    # The recurring lines (the tier and each credit pack); empty once it has ended.
    lines: list[AddonLine] = []


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


class LedgerEntryOut(BaseModel):
    at: datetime
    kind: EntryKind
    credits: int
    balance_after: int
    reference: str


class Ledger(BaseModel):
    entries: list[LedgerEntryOut]


class PaymentOut(BaseModel):
    payment_id: str
    at: datetime
    kind: PaymentKind
    amount_minor: int
    currency: str
    status: PaymentStatus
    reference: str
    decline_reason: str | None = None
    provider_ref: str | None = None  # the provider's id (Stripe pi_…/re_…); null for the sandbox


class Payments(BaseModel):
    payments: list[PaymentOut]


def _account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"Account {account_id} was not found.")
    return account


def _ineligible_reason(catalogue: Catalogue, account: Account) -> IneligibleReason | None:
    refusal = plan_refusal(catalogue, Plan(account.plan))
    return None if refusal is None else IneligibleReason.model_validate(refusal.model_dump())


def _addon(session: Session, addon: AddonSubscription | None) -> AddonOut:
    if addon is None:
        return AddonOut(status=AddonStatus.INACTIVE)
    status = AddonStatus(addon.status)
    ended = status in {AddonStatus.CANCELLED, AddonStatus.SUSPENDED}
    return AddonOut(
        status=status,
        tier=addon.tier,
        monthly_credits=addon.monthly_credits,
        period_start=None if ended else addon.period_start,
        period_end=None if ended else addon.period_end,
        next_charge_at=None if ended else addon.next_charge_at,
        next_charge_minor=None if ended else addon.next_charge_minor,
        currency=addon.currency,
        ends_at=addon.ends_at,
        lines=addon_lines(session, addon),
    )


@router.get("")
def billing_page(
    account_id: str, caller: AccountCaller, session: ReadSession, services: ServicesDep
) -> BillingPage:
    account = _account(session, caller.account_id)
    addon = _addon(session, session.get(AddonSubscription, account.id))
    reason = _ineligible_reason(services.catalogue, account)
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


@router.get("/offers")
def offers(
    account_id: str, caller: AccountCaller, session: ReadSession, services: ServicesDep
) -> Offers:
    account = _account(session, caller.account_id)
    cycle, currency = BillingCycle(account.billing_cycle), Currency(account.currency)
    catalogue = services.catalogue
    reason = _ineligible_reason(catalogue, account)
    return Offers(
        currency=currency,
        interval=cycle.interval,
        addon_tiers=[_offer(tier, currency, cycle) for tier in catalogue.addon_tiers],
        credit_packs=[_offer(pack, currency, cycle) for pack in catalogue.credit_packs],
        eligible=reason is None,
        ineligible_reason=reason,
    )


@router.get("/ledger")
def ledger(
    account_id: str, caller: AccountCaller, session: ReadSession, limit: Limit = DEFAULT_LIMIT
) -> Ledger:
    rows = session.scalars(
        select(CreditEntry)
        .where(CreditEntry.account_id == caller.account_id)
        .order_by(CreditEntry.id.desc())
        .limit(limit)
    )
    return Ledger(
        entries=[
            LedgerEntryOut(
                at=e.at,
                kind=EntryKind(e.kind),
                credits=e.credits,
                balance_after=e.balance_after,
                reference=e.reference,
            )
            for e in rows
        ]
    )


@router.get("/payments")
def payments(
    account_id: str, caller: AccountCaller, session: ReadSession, limit: Limit = DEFAULT_LIMIT
) -> Payments:
    rows = session.scalars(
        select(Payment)
        .where(Payment.account_id == caller.account_id)
        .where(Payment.status.in_([s.value for s in PaymentStatus]))  # not attempts in flight
        .order_by(Payment.at.desc(), Payment.created_at.desc())
        .limit(limit)
    )
    return Payments(
        payments=[
            PaymentOut(
                payment_id=p.payment_id,
                at=p.at,
                kind=PaymentKind(p.kind),
                amount_minor=p.amount_minor,
                currency=p.currency,
                status=PaymentStatus(p.status),
                reference=p.reference,
                decline_reason=p.decline_reason,
                provider_ref=p.provider_ref,
            )
            for p in rows
        ]
    )

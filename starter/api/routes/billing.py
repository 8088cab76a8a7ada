"""The billing page's data: the add-on and credits, offers, the ledger and payments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from application import billing_history, billing_view
from application.authorization import Action, Permit
from application.billing_history import DEFAULT_LIMIT, MAX_LIMIT, Ledger, Payments
from application.billing_view import BillingPage, Offers
from starter.api.deps import ServicesDep, allowed

router = APIRouter(prefix="/v1/accounts/{account_id}/sms", tags=["billing"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Reader = Annotated[Permit, allowed(Action.READ_BILLING)]


@router.get("")
def billing_page(account_id: str, permit: Reader, services: ServicesDep) -> BillingPage:
    return billing_view.billing(services, permit)


@router.get("/offers")
def offers(account_id: str, permit: Reader, services: ServicesDep) -> Offers:
    return billing_view.offers(services, permit)


@router.get("/ledger")
def ledger(
    account_id: str, permit: Reader, services: ServicesDep, limit: Limit = DEFAULT_LIMIT
) -> Ledger:
    return billing_history.ledger(services, permit, limit)


@router.get("/payments")
def payments(
    account_id: str, permit: Reader, services: ServicesDep, limit: Limit = DEFAULT_LIMIT
) -> Payments:
    return billing_history.payments(services, permit, limit)

"""The account's billing details (billing permission): whom its receipts are made out
to, with the tax id checked for the address's country (application/billing_details.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from application import billing_details
from application.authorization import Action, Permit
from domain.billing_details import BillingDetails, BillingDetailsOut
from domain.errors import ErrorCode
from starter.api.deps import ServicesDep, allowed
from starter.api.errors import error_responses

router = APIRouter(prefix="/v1/accounts/{account_id}", tags=["billing details"])

DetailsPermit = Annotated[Permit, allowed(Action.BILLING_DETAILS)]


@router.get(
    "/billing-details",
    responses=error_responses(ErrorCode.BILLING_PERMISSION_REQUIRED, ErrorCode.NOT_FOUND),
)
def get_billing_details(
    account_id: str, permit: DetailsPermit, services: ServicesDep
) -> BillingDetailsOut:
    """The details receipts are made out to; 404 ``not_found`` until they are first set."""
    return billing_details.read(services, permit)


@router.put(
    "/billing-details",
    responses=error_responses(ErrorCode.BILLING_PERMISSION_REQUIRED, ErrorCode.SERVICE_UNAVAILABLE),
)
def put_billing_details(
    account_id: str, permit: DetailsPermit, body: BillingDetails, services: ServicesDep
) -> BillingDetailsOut:
    """Replace the details whole. For a Brazilian address ``tax_id`` is a CPF or CNPJ,
    checked by its check digits, stored as digits and answered formatted; elsewhere a
    VAT id, checked where python-stdnum knows the country. Receipts issued from now
    on carry them; earlier receipts keep the details they were issued with."""
    return billing_details.save(services, permit, body)

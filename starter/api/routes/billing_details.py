"""The account's billing details (billing permission): whom its receipts are made out
to, with the tax id checked for the address's country."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from application.errors import ApiError
from domain.billing_details import BillingDetails, BillingDetailsOut
from domain.errors import ErrorCode
from starter.api.deps import BillingCaller, Caller, ReadSession, SessionDep
from starter.api.errors import error_responses
from store.billing_details import billing_details, save_billing_details

router = APIRouter(prefix="/v1/accounts/{account_id}", tags=["billing details"])


@router.get(
    "/billing-details",
    responses=error_responses(ErrorCode.BILLING_PERMISSION_REQUIRED, ErrorCode.NOT_FOUND),
)
def get_billing_details(
    account_id: str, caller: BillingCaller, session: ReadSession
) -> BillingDetailsOut:
    """The details receipts are made out to; 404 ``not_found`` until they are first set."""
    details = details_or_none(session, caller)
    if details is None:
        raise ApiError(ErrorCode.NOT_FOUND, "The account has no billing details yet.")
    return details


def details_or_none(session: Session, caller: Caller) -> BillingDetailsOut | None:
    """The details if ``caller`` may see them (the billing permission) and they are set."""
    if not caller.may_buy:
        return None
    details = billing_details(session, caller.account_id)
    return None if details is None else BillingDetailsOut.of(details)


@router.put(
    "/billing-details",
    responses=error_responses(ErrorCode.BILLING_PERMISSION_REQUIRED, ErrorCode.SERVICE_UNAVAILABLE),
)
def put_billing_details(
    account_id: str, body: BillingDetails, caller: BillingCaller, session: SessionDep
) -> BillingDetailsOut:
    """Replace the details whole. For a Brazilian address ``tax_id`` is a CPF or CNPJ,
    checked by its check digits, stored as digits and answered formatted; elsewhere a
    VAT id, checked where python-stdnum knows the country. Receipts issued from now
    on carry them; earlier receipts keep the details they were issued with."""
    with session.begin():
        save_billing_details(session, caller.account_id, body, datetime.now(UTC))
    return BillingDetailsOut.of(body)

"""The account's billing details (billing permission): whom its receipts are made out
to, with the tax id checked for the address's country (domain/billing_details.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from application.authorization import Action, Permit
from application.context import Services
from application.errors import ApiError
from domain.billing_details import BillingDetails, BillingDetailsOut
from domain.errors import ErrorCode
from store.billing_details import billing_details, save_billing_details
from store.db import read_only, transaction


def current(services: Services, permit: Permit) -> BillingDetailsOut | None:
    """The details receipts are made out to; None until they are first set."""
    permit.require(Action.BILLING_DETAILS)
    with read_only(services.sessions) as session:
        details = billing_details(session, permit.account_id)
    return None if details is None else BillingDetailsOut.of(details)


def read(services: Services, permit: Permit) -> BillingDetailsOut:
    """The details; 404 ``not_found`` until they are first set."""
    details = current(services, permit)
    if details is None:
        raise ApiError(ErrorCode.NOT_FOUND, "The account has no billing details yet.")
    return details


def save(services: Services, permit: Permit, details: BillingDetails) -> BillingDetailsOut:
    """Replace the details whole. Receipts issued from now on carry them; earlier
    receipts keep the details they were issued with."""
    permit.require(Action.BILLING_DETAILS)
    with transaction(services.sessions) as session:
        save_billing_details(session, permit.account_id, details, datetime.now(UTC))
    return BillingDetailsOut.of(details)

"""The account's receipts (any user of the account, like its payments): the list, one
receipt, and its PDF in the account's language (application/receipts.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from application import receipts
from application.authorization import Action, Permit
from application.receipts import DEFAULT_LIMIT, MAX_LIMIT, Receipts
from domain.errors import ErrorCode
from domain.receipts import Receipt
from starter.api.deps import IdPath, ServicesDep, allowed
from starter.api.downloads import PDF, pdf_download
from starter.api.errors import error_responses

router = APIRouter(prefix="/v1/accounts/{account_id}/sms/receipts", tags=["receipts"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Reader = Annotated[Permit, allowed(Action.READ_BILLING)]


@router.get("")
def list_receipts(
    account_id: str, permit: Reader, services: ServicesDep, limit: Limit = DEFAULT_LIMIT
) -> Receipts:
    """Every succeeded capture's and refund's receipt, newest first."""
    return receipts.list_receipts(services, permit, limit)


@router.get("/{receipt_id}", responses=error_responses(ErrorCode.NOT_FOUND))
def get_receipt(
    account_id: str, receipt_id: IdPath, permit: Reader, services: ServicesDep
) -> Receipt:
    return receipts.receipt(services, permit, receipt_id)


@router.get(
    "/{receipt_id}/pdf",
    response_class=Response,
    responses={
        200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(ErrorCode.NOT_FOUND),
    },
)
def get_receipt_pdf(
    account_id: str, receipt_id: IdPath, permit: Reader, services: ServicesDep
) -> Response:
    """The receipt as an A4 PDF in the account's language and number format."""
    return pdf_download(receipts.receipt_pdf(services, permit, receipt_id))

"""The account's receipts (any user of the account, like its payments): the list, one
receipt, and its PDF in the account's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from application.errors import ApiError
from documents.receipt_pdf import render_receipt_pdf
from domain.enums import Locale
from domain.errors import ErrorCode
from domain.receipts import Receipt
from starter.api.deps import AccountCaller, IdPath, ReadSession
from starter.api.errors import error_responses
from store.models import Account
from store.receipts import account_receipt, account_receipts

router = APIRouter(prefix="/v1/accounts/{account_id}/sms/receipts", tags=["receipts"])

Limit = Annotated[int, Query(ge=1, le=500)]
DEFAULT_LIMIT = 50
PDF = "application/pdf"


class Receipts(BaseModel):
    receipts: list[Receipt]


@router.get("")
def list_receipts(
    account_id: str, caller: AccountCaller, session: ReadSession, limit: Limit = DEFAULT_LIMIT
) -> Receipts:
    """Every succeeded capture's and refund's receipt, newest first."""
    return Receipts(receipts=account_receipts(session, caller.account_id, limit))


def _receipt(session: Session, account_id: str, receipt_id: str) -> Receipt:
    receipt = account_receipt(session, account_id, receipt_id)
    if receipt is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"Receipt {receipt_id} was not found.")
    return receipt


@router.get("/{receipt_id}", responses=error_responses(ErrorCode.NOT_FOUND))
def get_receipt(
    account_id: str, receipt_id: IdPath, caller: AccountCaller, session: ReadSession
) -> Receipt:
    return _receipt(session, caller.account_id, receipt_id)


def receipt_pdf(session: Session, account_id: str, receipt_id: str) -> Response:
    """The receipt's PDF in the account's locale, as a download named by its number."""
    receipt = _receipt(session, account_id, receipt_id)
    account = session.get(Account, account_id)
    assert account is not None, "a receipt's account exists"
    return Response(
        render_receipt_pdf(receipt, Locale(account.locale)),
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="{receipt.number}.pdf"'},
    )


@router.get(
    "/{receipt_id}/pdf",
    response_class=Response,
    responses={
        200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(ErrorCode.NOT_FOUND),
    },
)
def get_receipt_pdf(
    account_id: str, receipt_id: IdPath, caller: AccountCaller, session: ReadSession
) -> Response:
    """The receipt as an A4 PDF in the account's language and number format."""
    return receipt_pdf(session, caller.account_id, receipt_id)

"""The account's receipts (any user of the account, like its payments): the list, one
receipt, and its PDF in the account's language."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy.orm import Session

from application.authorization import Action, Permit
from application.context import Services
from application.errors import ApiError
from documents.receipt_pdf import render_receipt_pdf
from domain.enums import Locale
from domain.errors import ErrorCode
from domain.receipts import Receipt
from store.db import read_only
from store.models import Account
from store.receipts import account_receipt, account_receipts

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Receipts(BaseModel):
    receipts: list[Receipt]


@dataclass(frozen=True)
class ReceiptPdf:
    """A receipt as an A4 PDF, named by its number."""

    content: bytes
    filename: str


def _receipt(session: Session, account_id: str, receipt_id: str) -> Receipt:
    receipt = account_receipt(session, account_id, receipt_id)
    if receipt is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"Receipt {receipt_id} was not found.")
    return receipt


def list_receipts(services: Services, permit: Permit, limit: int = DEFAULT_LIMIT) -> Receipts:
    """Every succeeded capture's and refund's receipt, newest first."""
    permit.require(Action.READ_BILLING)
    with read_only(services.sessions) as session:
        return Receipts(receipts=account_receipts(session, permit.account_id, limit))


def receipt(services: Services, permit: Permit, receipt_id: str) -> Receipt:
    """The account's receipt; another account's is as good as missing (404)."""
    permit.require(Action.READ_BILLING)
    with read_only(services.sessions) as session:
        return _receipt(session, permit.account_id, receipt_id)


def receipt_pdf(services: Services, permit: Permit, receipt_id: str) -> ReceiptPdf:
    """The receipt's PDF in the account's language and number format."""
    permit.require(Action.READ_BILLING)
    with read_only(services.sessions) as session:
        shown = _receipt(session, permit.account_id, receipt_id)
        account = session.get(Account, permit.account_id)
        assert account is not None, "a receipt's account exists"
        locale = Locale(account.locale)
    return ReceiptPdf(render_receipt_pdf(shown, locale), f"{shown.number}.pdf")

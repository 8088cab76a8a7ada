"""The durable record of purchases: created by the API before its workflow starts,
written by the workflow's steps, and the claim that serializes conflicting purchases.

The claim (API.md "Purchases of one account never race"): a confirmed purchase
takes the right to its item under the account's lock before any money moves. A
second purchase that conflicts with a held claim, or with the add-on as it stands,
is refused there and never charged. The claim is released when the purchase ends
(its status is recorded as final), so no separate release step can be lost.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contracts.purchase import ClaimRequest, PaymentRef, PurchaseView
from domain.catalogue import Catalogue
from domain.enums import AddonStatus, ItemType, Plan, PurchaseStatus
from domain.errors import DomainError, ErrorCode
from domain.pricing import Quote
from domain.purchase import TERMINAL_STATUSES, Failure, PurchaseItem, eligibility_refusal
from domain.tier_change import tier_change_refusal
from observability import metrics
from store.ledger import lock_account
from store.models import AddonSubscription, Payment, Purchase
from store.subscriptions import current_tier_line

ENDED = [status.value for status in TERMINAL_STATUSES]


def new_purchase_id() -> str:
    return f"pur_{uuid.uuid4().hex[:20]}"


def item_of(row: Purchase) -> PurchaseItem:
    id_field = "tier" if row.item_type == ItemType.ADDON.value else "pack"
    return PurchaseItem.model_validate({"type": row.item_type, id_field: row.item_id})


def view_of(session: Session, row: Purchase) -> PurchaseView:
    """A purchase as API.md shows it, from its record."""
    payment = session.get(Payment, row.payment_id) if row.payment_id else None
    return PurchaseView(
        purchase_id=row.purchase_id,
        status=PurchaseStatus(row.status),
        item=item_of(row),
        quote=Quote.model_validate(row.quote) if row.quote else None,
        payment=None
        if payment is None
        else PaymentRef(
            payment_id=payment.payment_id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
        ),
        failure=None
        if not row.failure_code
        else Failure(code=row.failure_code, message=row.failure_message or ""),
        created_at=row.created_at,
        completed_at=row.completed_at,
    )


def find_purchase(session: Session, account_id: str, purchase_id: str) -> Purchase | None:
    """The account's purchase; another account's is as good as missing."""
    row = session.get(Purchase, purchase_id)
    return row if row is not None and row.account_id == account_id else None


def recent_purchases(
    session: Session, account_id: str, status: PurchaseStatus | None, limit: int
) -> list[Purchase]:
    """The account's purchases, newest first, optionally of one status."""
    query = select(Purchase).where(Purchase.account_id == account_id)
    if status is not None:
        query = query.where(Purchase.status == status.value)
    query = query.order_by(Purchase.created_at.desc(), Purchase.purchase_id).limit(limit)
    return list(session.scalars(query))


def purchase_by_key(session: Session, account_id: str, key: str | None) -> Purchase | None:
    if key is None:
        return None
    return session.scalars(
        select(Purchase).where(Purchase.account_id == account_id, Purchase.idempotency_key == key)
    ).first()


def record_new_purchase(
    sessions: sessionmaker[Session],
    *,
    account_id: str,
    user_id: str,
    item: PurchaseItem,
    key: str | None,
    at: datetime,
) -> Purchase:
    """The purchase's row, created before its workflow so that an Idempotency-Key maps
    to one purchase; a concurrent request with the same key gets the winner's row.
    The same key for another item is a ``conflict``."""

    def same_key() -> Purchase | None:
        existing = purchase_by_key(session, account_id, key)
        if existing is not None and (existing.item_type, existing.item_id) != (
            item.type.value,
            item.item_id,
        ):
            raise DomainError(
                ErrorCode.CONFLICT, "This Idempotency-Key was already used for another purchase."
            )
        return existing

    with sessions() as session:
        try:
            with session.begin():
                existing = same_key()
                if existing is not None:
                    return existing
                row = Purchase(
                    purchase_id=new_purchase_id(),
                    account_id=account_id,
                    user_id=user_id,
                    item_type=item.type.value,
                    item_id=item.item_id,
                    status=PurchaseStatus.PROCESSING.value,
                    idempotency_key=key,
                    created_at=at,
                    updated_at=at,
                )
                session.add(row)
            return row
        except IntegrityError:
            with session.begin():
                winner = same_key()
            if winner is None:
                raise
            return winner


def save_purchase_view(session: Session, view: PurchaseView) -> None:
    """Set the purchase's status and outcome to ``view``, whatever the row held."""
    purchase = session.get(Purchase, view.purchase_id, with_for_update=True)
    if purchase is None:
        raise LookupError(f"Purchase {view.purchase_id} has no record.")
    metrics.purchase_status(session, purchase.item_type, purchase.status, view.status)
    purchase.status = view.status.value
    purchase.quote = view.quote.model_dump(mode="json") if view.quote else None
    purchase.payment_id = view.payment.payment_id if view.payment else None
    purchase.failure_code = view.failure.code if view.failure else None
    purchase.failure_message = view.failure.message if view.failure else None
    purchase.completed_at = view.completed_at
    purchase.updated_at = view.completed_at or purchase.updated_at


def _addon_claim_held(session: Session, account_id: str, but: str) -> bool:
    """Another purchase of the add-on has claimed it and has not ended."""
    found = session.scalars(
        select(Purchase.purchase_id).where(
            Purchase.account_id == account_id,
            Purchase.item_type == ItemType.ADDON.value,
            Purchase.claimed_at.is_not(None),
            Purchase.status.not_in(ENDED),
            Purchase.purchase_id != but,
        )
    ).first()
    return found is not None


def claim_item(session: Session, claim: ClaimRequest, catalogue: Catalogue) -> bool:
    """Take the right to the item under the account's lock, or refuse; True when this
    call took it.

    Idempotent by the purchase id: a retry finds its claim, changes nothing and
    answers False.
    Refusals: the quote's credit month has ended, or its currency is no longer the
    account's (``quote_expired``), and the eligibility rules as they stand now,
    counting add-on claims still in flight.
    """
    account = lock_account(session, claim.account_id)
    purchase = session.get(Purchase, claim.purchase_id)
    if purchase is None or purchase.account_id != claim.account_id:
        raise LookupError(f"Purchase {claim.purchase_id} has no record.")
    if purchase.claimed_at is not None:
        return False
    if claim.at >= claim.quote_month_end:
        raise DomainError(
            ErrorCode.QUOTE_EXPIRED,
            "The quote was priced for a credit month that has ended; ask for a new one.",
        )
    if purchase.quote is not None and purchase.quote["currency"] != account.currency:
        raise DomainError(
            ErrorCode.QUOTE_EXPIRED,
            f"The quote is in {purchase.quote['currency']} and the account now pays in "
            f"{account.currency}; ask for a new one.",
        )
    addon = session.get(AddonSubscription, claim.account_id)
    plan_eligible = catalogue.plan_eligible(Plan(account.plan))
    status = AddonStatus.INACTIVE if addon is None else AddonStatus(addon.status)
    in_flight = _addon_claim_held(session, claim.account_id, claim.purchase_id)
    if claim.tier_change is None or not plan_eligible:
        refusal = eligibility_refusal(
            item_type=claim.item.type,
            plan_eligible=plan_eligible,
            addon_status=status,
            addon_purchase_in_flight=in_flight,
        )
    else:
        tier = current_tier_line(session, claim.account_id, claim.at)
        refusal = tier_change_refusal(
            addon_status=status,
            addon_purchase_in_flight=in_flight,
            change=claim.tier_change,
            current_tier=None if tier is None else tier.item_id,
        )
    if refusal is not None:
        raise DomainError(*refusal)
    purchase.claimed_at = claim.at
    return True


def has_bought(session: Session, account_id: str) -> bool:
    """The account has bought something: a purchase confirmed (claimed), a payment of
    any outcome, or an add-on. From then on its currency is fixed (API.md, Admin)."""
    confirmed = select(Purchase.purchase_id).where(
        Purchase.account_id == account_id, Purchase.claimed_at.is_not(None)
    )
    paid = select(Payment.payment_id).where(Payment.account_id == account_id)
    return (
        session.get(AddonSubscription, account_id) is not None
        or session.scalars(confirmed.limit(1)).first() is not None
        or session.scalars(paid.limit(1)).first() is not None
    )

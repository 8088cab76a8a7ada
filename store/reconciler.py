"""What the reconciler looks for in the database: the records a lost workflow can
leave behind (docs/runbook.md "Reconciler"). Read-only; each list is oldest first."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.operator import OperatorRefundStart, RefundRequestStatus
from domain.enums import AddonStatus, PurchaseStatus
from domain.pricing import Quote
from domain.purchase import HELD_ADDON_STATUSES
from store.models import AddonSubscription, Purchase
from store.operator import refund_start_of
from store.operator_models import RefundRequest

UNFINISHED = (PurchaseStatus.AWAITING_CONFIRMATION.value, PurchaseStatus.PROCESSING.value)


def held_addons(session: Session, activated_before: datetime) -> list[AddonSubscription]:
    """Add-ons a subscription workflow should be keeping (active, past due, cancelling),
    activated before ``activated_before`` (a newer one's purchase may still start it)."""
    return list(
        session.scalars(
            select(AddonSubscription)
            .where(
                AddonSubscription.status.in_([s.value for s in HELD_ADDON_STATUSES]),
                AddonSubscription.activated_at < activated_before,
            )
            .order_by(AddonSubscription.activated_at)
        )
    )


def is_active(addon: AddonSubscription) -> bool:
    return addon.status == AddonStatus.ACTIVE.value


def unfinished_purchases(session: Session, created_before: datetime, limit: int) -> list[Purchase]:
    """Purchases not ended although created before ``created_before``."""
    return list(
        session.scalars(
            select(Purchase)
            .where(Purchase.status.in_(UNFINISHED), Purchase.created_at < created_before)
            .order_by(Purchase.created_at)
            .limit(limit)
        )
    )


def deadline_of(row: Purchase, quote_ttl: timedelta) -> datetime:
    """When the purchase should have ended at the latest: its quote's expiry (the
    confirm is refused after it), or, never priced, its creation plus a quote's time."""
    if row.quote:
        return Quote.model_validate(row.quote).expires_at
    return row.created_at + quote_ttl


def requested_refunds(
    session: Session, created_before: datetime, limit: int
) -> list[tuple[RefundRequest, OperatorRefundStart | None]]:
    """Operator refund requests still ``requested``, created before ``created_before``,
    each with the start of its workflow (None when its capture is gone: it cannot run)."""
    requests = session.scalars(
        select(RefundRequest)
        .where(
            RefundRequest.status == RefundRequestStatus.REQUESTED.value,
            RefundRequest.created_at < created_before,
        )
        .order_by(RefundRequest.created_at)
        .limit(limit)
    )
    return [(request, refund_start_of(session, request)) for request in requests]

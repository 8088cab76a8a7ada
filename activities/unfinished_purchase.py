"""The reconciler's settlement of a purchase whose workflow is gone: ended as its
workflow would have ended it, with the purchase's own records (``save_purchase_view``)
and refund (``refund_payment``, key ``refund:purchase:{id}``). Idempotent: a purchase
that has ended is left alone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.deps import ActivityDeps
from activities.purchase import PurchaseActivities
from boundary.errors import Fault
from contracts.purchase import PaymentRef, PurchaseView, RefundRequest, payment_key
from contracts.reconciler import ReconcilerAction, StuckPurchase
from domain.enums import PaymentStatus, PurchaseStatus
from domain.errors import ErrorCode
from domain.purchase import TERMINAL_STATUSES, Failure
from observability.metrics import reconciler_action
from payments.gateway import GatewayRejected, UnknownPayment
from store.db import read_only, transaction
from store.models import Payment, Purchase
from store.purchases import save_purchase_view, view_of


def _unfinished(session: Session, purchase_id: str, *, lock: bool = False) -> Purchase | None:
    """The purchase's row while it has not ended."""
    row = session.get(Purchase, purchase_id, with_for_update=lock)
    return row if row is not None and PurchaseStatus(row.status) not in TERMINAL_STATUSES else None


class UnfinishedPurchaseActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._purchase = PurchaseActivities(deps)

    @activity.defn
    def settle_unfinished_purchase(self, stuck: StuckPurchase) -> ReconcilerAction | None:
        """End a purchase whose workflow is gone as its workflow would have: expired
        (never confirmed), failed (nothing captured), refunded (captured, never
        granted) or needs_attention (the refund failed too). None while its payment's
        outcome is still unknown (the payment janitor settles it first) or once it has
        ended. The claim goes with the final status."""
        with read_only(self._sessions) as session:
            row = _unfinished(session, stuck.purchase_id)
            if row is None:
                return None
            view = view_of(session, row)
            capture = session.scalars(
                select(Payment).where(Payment.idempotency_key == payment_key(row.purchase_id))
            ).first()
        if capture is not None and capture.status == PaymentStatus.SUCCEEDED.value:
            action, ended = self._give_back(view, capture, stuck.at)
        elif capture is not None and capture.status != PaymentStatus.DECLINED.value:
            return None  # pending: its outcome is the janitor's to learn
        elif view.status is PurchaseStatus.AWAITING_CONFIRMATION:
            action = ReconcilerAction.PURCHASE_EXPIRED
            ended = self._ended(
                view, PurchaseStatus.EXPIRED, ErrorCode.QUOTE_EXPIRED, "The quote expired."
            )
        else:
            action = ReconcilerAction.PURCHASE_FAILED
            ended = self._ended(
                view,
                PurchaseStatus.FAILED,
                Fault.INTERRUPTED,
                "The purchase stopped before it was paid; nothing was charged.",
            )
        ended = ended.model_copy(update={"completed_at": stuck.at})
        with transaction(self._sessions) as session:
            if _unfinished(session, stuck.purchase_id, lock=True) is None:
                return None  # settled meanwhile (an operator, an overlapping pass)
            save_purchase_view(session, ended)
        return reconciler_action(action)

    def _give_back(
        self, view: PurchaseView, capture: Payment, at: datetime
    ) -> tuple[ReconcilerAction, PurchaseView]:
        """Refund a capture whose purchase never granted (keyed as the workflow's own)."""
        paid = view.model_copy(
            update={
                "payment": PaymentRef(
                    payment_id=capture.payment_id,
                    amount_minor=capture.amount_minor,
                    currency=capture.currency,
                )
            }
        )
        request = RefundRequest(
            account_id=capture.account_id,
            purchase_id=view.purchase_id,
            payment_id=capture.payment_id,
            at=at,
        )
        try:
            self._purchase.refund_payment(request)
        except (GatewayRejected, UnknownPayment) as refused:
            activity.logger.error(
                "Purchase %s needs attention: captured as %s, never granted, and the "
                "refund failed: %s",
                view.purchase_id,
                capture.payment_id,
                refused,
            )
            return ReconcilerAction.PURCHASE_NEEDS_ATTENTION, self._ended(
                paid,
                PurchaseStatus.NEEDS_ATTENTION,
                Fault.REFUND_FAILED,
                f"The purchase stopped after the payment; its refund failed ({refused}); "
                "an operator has been alerted.",
            )
        return ReconcilerAction.PURCHASE_REFUNDED, self._ended(
            paid,
            PurchaseStatus.REFUNDED,
            Fault.GRANT_FAILED,
            "The purchase stopped after the payment, before the credits were granted; "
            "the payment was refunded.",
        )

    @staticmethod
    def _ended(view: PurchaseView, status: PurchaseStatus, code: str, message: str) -> PurchaseView:
        return view.model_copy(
            update={"status": status, "failure": Failure(code=code, message=message)}
        )

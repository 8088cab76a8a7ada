"""Activities of the purchase workflow.

The checks are short reads run as local activities; capture, grant, refund and
the purchase record are regular activities, each idempotent by the purchase id.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from domain.enums import AddonStatus, BillingCycle, ItemType, Plan, Role
from domain.errors import ErrorCode
from domain.purchase import (
    GRANT_FAILED,
    AccountSnapshot,
    CallerCheck,
    CaptureRequest,
    CaptureResult,
    EligibilityCheck,
    GrantRequest,
    PaymentRef,
    PurchaseView,
    RefundRequest,
    payment_key,
    refund_key,
)
from observability import metrics
from payments.gateway import PaymentResult
from store.db import transaction
from store.models import Account, AddonSubscription, Purchase, User
from store.subscriptions import activate_addon, add_credit_pack

# Add-on states in which the add-on is held and cannot be bought again.
HELD = {AddonStatus.ACTIVE, AddonStatus.PAST_DUE, AddonStatus.CANCELLING}


def refusal(code: ErrorCode, message: str) -> ApplicationError:
    """A business refusal: final, never retried, mapped by the API to API.md's code."""
    return ApplicationError(message, type=code.value, non_retryable=True)


def _payment_ref(result: PaymentResult) -> PaymentRef:
    return PaymentRef(
        payment_id=result.payment_id, amount_minor=result.amount_minor, currency=result.currency
    )


class PurchaseActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._catalogue = deps.catalogue
        self._gateway = deps.gateway

    @activity.defn
    def check_permission(self, check: CallerCheck) -> None:
        """Read-only: the user, as stored now, may buy for the account (DESIGN.md rule 1)."""
        with self._sessions() as session:
            user = session.get(User, (check.account_id, check.user_id))
        if user is None or not (user.role == Role.PRIMARY_ADMIN or user.billing_permission):
            raise refusal(
                ErrorCode.BILLING_PERMISSION_REQUIRED,
                "Only the primary admin or a user with the billing permission can buy this.",
            )

    @activity.defn
    def check_eligibility(self, check: EligibilityCheck) -> AccountSnapshot:
        """Read-only: plan, add-on state and item; returns what pricing needs."""
        item = check.item.priced_in(self._catalogue)
        if item is None:
            raise refusal(
                ErrorCode.UNKNOWN_ITEM,
                f"There is no {check.item.type.value} called {check.item.item_id!r}.",
            )
        with self._sessions() as session:
            account = session.get(Account, check.account_id)
            if account is None:
                raise refusal(ErrorCode.NOT_FOUND, f"Account {check.account_id} was not found.")
            addon = session.get(AddonSubscription, check.account_id)
        plan = Plan(account.plan)
        if not self._catalogue.plan_eligible(plan):
            raise refusal(
                ErrorCode.PLAN_NOT_ELIGIBLE,
                "The SMS add-on needs a Plus, Professional or Enterprise plan.",
            )
        status = AddonStatus(addon.status) if addon else AddonStatus.INACTIVE
        if check.item.type is ItemType.ADDON and status in HELD:
            raise refusal(ErrorCode.ADDON_ALREADY_ACTIVE, "The SMS add-on is already active.")
        if check.item.type is ItemType.CREDIT_PACK and status is not AddonStatus.ACTIVE:
            raise refusal(ErrorCode.ADDON_NOT_ACTIVE, "Credit packs need an active SMS add-on.")
        held = addon is not None and status in HELD
        return AccountSnapshot(
            account_id=account.id,
            plan=plan,
            billing_cycle=BillingCycle(account.billing_cycle),
            billing_anchor=account.billing_anchor,
            currency=self._catalogue.currency,
            payment_method=account.payment_method,
            addon_status=status,
            monthly_credits=addon.monthly_credits if addon and held else 0,
            recurring_minor=addon.recurring_minor if addon and held else 0,
            item=item,
        )

    @activity.defn
    def record_purchase(self, view: PurchaseView) -> None:
        """Write the purchase's status and outcome. Idempotent: keyed by purchase_id,
        it sets the row to ``view`` whatever it held."""
        with transaction(self._sessions) as session:
            purchase = session.get(Purchase, view.purchase_id, with_for_update=True)
            if purchase is None:
                raise ApplicationError(f"Purchase {view.purchase_id} has no record.")
            metrics.purchase_status(session, purchase.item_type, purchase.status, view.status)
            purchase.status = view.status.value
            purchase.quote = view.quote.model_dump(mode="json") if view.quote else None
            purchase.payment_id = view.payment.payment_id if view.payment else None
            purchase.failure_code = view.failure.code if view.failure else None
            purchase.failure_message = view.failure.message if view.failure else None
            purchase.completed_at = view.completed_at
            purchase.updated_at = view.completed_at or purchase.updated_at

    @activity.defn
    def capture_payment(self, request: CaptureRequest) -> CaptureResult:
        """Charge the account's payment method. Key ``purchase:{purchase_id}``: a retry,
        or a lost gateway answer, returns the first charge and never a second."""
        with self._sessions() as session:
            account = session.get(Account, request.account_id)
            assert account is not None, "eligibility was checked"
            method = account.payment_method
        result = self._gateway.capture(
            account_id=request.account_id,
            amount_minor=request.amount_minor,
            currency=request.currency,
            payment_method=method,
            idempotency_key=payment_key(request.purchase_id),
            reference=f"purchase {request.purchase_id}",
            at=request.at,
        )
        return CaptureResult(
            payment=_payment_ref(result),
            succeeded=result.succeeded,
            decline_reason=result.decline_reason,
        )

    @activity.defn
    def grant_purchase(self, request: GrantRequest) -> None:
        """Grant the credits and activate the add-on (or raise the allotment) in one
        transaction. Keyed by purchase_id: a retry finds its line and grants nothing twice."""
        item = request.item.priced_in(self._catalogue)
        if item is None:
            raise ApplicationError(
                f"{request.item.item_id} left the catalogue",
                type=GRANT_FAILED,
                non_retryable=True,
            )
        with transaction(self._sessions) as session:
            if request.item.type is ItemType.ADDON:
                activate_addon(
                    session,
                    account_id=request.account_id,
                    purchase_id=request.purchase_id,
                    tier=item,
                    currency=request.currency,
                    at=request.at,
                )
                return
            try:
                add_credit_pack(
                    session,
                    account_id=request.account_id,
                    purchase_id=request.purchase_id,
                    pack=item,
                    at=request.at,
                )
            except LookupError as exc:
                raise ApplicationError(str(exc), type=GRANT_FAILED, non_retryable=True) from exc

    @activity.defn
    def refund_payment(self, request: RefundRequest) -> PaymentRef:
        """Give the money back after a grant failed for good. Key ``refund:purchase:{id}``."""
        result = self._gateway.refund(
            payment_id=request.payment_id,
            idempotency_key=refund_key(request.purchase_id),
            reference=f"refund of purchase {request.purchase_id}",
            at=request.at,
        )
        return _payment_ref(result)

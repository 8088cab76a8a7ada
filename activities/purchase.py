"""Activities of the purchase workflow.

The checks and the quote are short reads run as local activities; so are the claim,
capture (and the read of a capture whose answer never came), grant and the purchase
record, each safe to run again by its key; the refund is a regular activity.
Exceptions are mapped to typed failures once, at the worker's boundary
(``boundary.interceptor``).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity

from activities.deps import ActivityDeps
from activities.payment_records import recorded_payment
from boundary.errors import Fault, refusal
from contracts.payment_janitor import Recorded
from contracts.purchase import (
    CallerCheck,
    CaptureRequest,
    CaptureResult,
    ClaimRequest,
    EligibilityCheck,
    GrantRequest,
    PaymentRef,
    PurchaseView,
    QuoteRequest,
    RefundRequest,
    payment_key,
    refund_key,
)
from domain.addon_outlook import renewal_totals
from domain.calendar import billing_period
from domain.catalogue import RecurringItem
from domain.enums import AddonStatus, BillingCycle, Currency, ItemType, Plan, Role
from domain.errors import ErrorCode
from domain.pricing import AccountTerms, Quote, build_quote, price_tier_change
from domain.purchase import HELD_ADDON_STATUSES, eligibility_refusal, may_buy
from domain.receipts import ReceiptLine
from payments.attempts import never_sent
from payments.gateway import PaymentResult, refund_made
from store.db import read_only, transaction
from store.fact_events import purchase_event
from store.models import Account, AddonSubscription, SubscriptionItem, User
from store.outlook import billed_line, billed_lines
from store.purchases import claim_item, save_purchase_view
from store.subscriptions import activate_addon, add_credit_pack, change_tier, current_tier_line


def _payment_ref(result: PaymentResult) -> PaymentRef:
    return PaymentRef(
        payment_id=result.payment_id, amount_minor=result.amount_minor, currency=result.currency
    )


def _capture_result(result: PaymentResult) -> CaptureResult:
    return CaptureResult(
        payment=_payment_ref(result),
        succeeded=result.succeeded,
        decline_reason=result.decline_reason,
        unsent=never_sent(result),
    )


class PurchaseActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._catalogue = deps.catalogue
        self._gateway = deps.gateway

    @activity.defn
    def check_permission(self, check: CallerCheck) -> None:
        """Read-only: the user, as stored now, may buy for the account (DESIGN.md rule 1)."""
        with read_only(self._sessions) as session:
            user = session.get(User, (check.account_id, check.user_id))
        if user is None or not may_buy(Role(user.role), user.billing_permission):
            raise refusal(
                ErrorCode.BILLING_PERMISSION_REQUIRED,
                "Only the primary admin or a user with the billing permission can buy this.",
            )

    def _priced_if_eligible(self, check: EligibilityCheck, ttl: timedelta) -> Quote:
        """Read-only: plan, add-on state and item; refused, or priced at ``check.at``."""
        assert check.at is not None, "priced at the moment it was checked"
        with read_only(self._sessions) as session:
            account = session.get(Account, check.account_id)
            if account is None:
                raise refusal(ErrorCode.NOT_FOUND, f"Account {check.account_id} was not found.")
            # Priced from the account's own currency's price book, and recorded so.
            currency = Currency(account.currency)
            item = check.item.priced_in(self._catalogue, currency)
            if item is None:
                raise refusal(
                    ErrorCode.INVALID_REQUEST,
                    f"There is no {check.item.type.value} called {check.item.item_id!r}.",
                )
            addon = session.get(AddonSubscription, check.account_id)
            line = current_tier_line(session, check.account_id, check.at) if addon else None
            lines = billed_lines(session, check.account_id) if addon else []
        status = AddonStatus(addon.status) if addon else AddonStatus.INACTIVE
        held = addon is not None and status in HELD_ADDON_STATUSES
        current_tier = line.item_id if line is not None and held else None
        refused = eligibility_refusal(
            item_type=check.item.type,
            plan_eligible=self._catalogue.plan_eligible(Plan(account.plan)),
            addon_status=status,
            tier=check.item.tier,
            current_tier=current_tier,
        )
        if refused is not None:
            raise refusal(*refused)
        cycle = BillingCycle(account.billing_cycle)
        tier_change = check.item.type is ItemType.ADDON and line is not None and held
        # The add-on as its next renewal will charge it (domain.addon_outlook), which the
        # quote's recurring change adds to; a tier change replaces the tier in force.
        renewal = renewal_totals(
            lines if held else [],
            billing_period(account.billing_anchor, cycle, check.at).end,
            replaced_tier=billed_line(line) if tier_change and line is not None else None,
        )
        terms = AccountTerms(
            cycle=cycle,
            anchor=account.billing_anchor,
            currency=currency,
            monthly_credits=renewal.monthly_credits,
            recurring_minor=renewal.recurring_minor(cycle),
        )
        if tier_change and line is not None:
            tier = self._priced(line, currency)
            return price_tier_change(current=tier, new=item, account=terms, now=check.at, ttl=ttl)
        return build_quote(item=item, account=terms, now=check.at, ttl=ttl)

    def _priced(self, line: SubscriptionItem, currency: Currency) -> RecurringItem:
        """A tier line as the catalogue item it was bought as, at the prices it was
        bought for (under the catalogue's name for it, while it has one)."""
        listed = self._catalogue.addon_tier(line.item_id, currency)
        return RecurringItem(
            id=line.item_id,
            name=listed.name if listed else line.item_id,
            credits_per_month=line.credits_per_month,
            monthly_price_minor=line.monthly_price_minor,
            annual_price_minor=line.annual_price_minor,
        )

    @activity.defn
    def quote_purchase(self, request: QuoteRequest) -> Quote:
        """The permission and eligibility checks, the quote and its record in one local
        activity: the quote is this step's result in the history, never recomputed once
        recorded. Safe to run again before then: it reads, and sets the purchase's row
        (by its id) to the quote it answers."""
        self.check_permission(request.caller)
        quote = self._priced_if_eligible(request.eligibility, request.ttl)
        with transaction(self._sessions) as session:
            save_purchase_view(session, request.record.model_copy(update={"quote": quote}))
        return quote

    @activity.defn
    def claim_item(self, claim: ClaimRequest) -> None:
        """Take the right to the item before any money moves, or refuse (the account's
        lock serializes claims). Idempotent by the purchase id: run again after the
        purchase moved on (a local activity replayed after its worker died), it finds
        its claim and leaves the record as later steps wrote it."""
        with transaction(self._sessions) as session:
            if claim_item(session, claim, self._catalogue) and claim.record is not None:
                save_purchase_view(session, claim.record)

    @activity.defn
    def record_purchase(self, view: PurchaseView) -> None:
        """Write the purchase's status and outcome. Idempotent: keyed by purchase_id,
        it sets the row to ``view`` whatever it held."""
        with transaction(self._sessions) as session:
            save_purchase_view(session, view)

    @activity.defn
    def capture_payment(self, request: CaptureRequest) -> CaptureResult:
        """Charge the account's payment method. Key ``purchase:{purchase_id}``: a retry,
        or a lost gateway answer, returns the first charge and never a second."""
        with read_only(self._sessions) as session:
            account = session.get(Account, request.account_id)
            if account is None:
                raise LookupError(f"Account {request.account_id} does not exist.")
            method = account.payment_method
        result = self._gateway.capture(
            account_id=request.account_id,
            amount_minor=request.amount_minor,
            currency=request.currency,
            payment_method=method,
            idempotency_key=payment_key(request.purchase_id),
            reference=f"purchase {request.purchase_id}",
            at=request.at,
            lines=[ReceiptLine.model_validate(line.model_dump()) for line in request.lines],
        )
        return _capture_result(result)

    @activity.defn
    def find_capture(self, request: CaptureRequest) -> Recorded[CaptureResult] | None:
        """Read-only (a local activity): what the payments table holds under the key
        ``purchase:{purchase_id}``, for a capture whose answer never came."""
        return recorded_payment(self._sessions, payment_key(request.purchase_id), _capture_result)

    @activity.defn
    def grant_purchase(self, request: GrantRequest) -> None:
        """Grant the credits and activate the add-on (or raise the allotment) in one
        transaction. Keyed by purchase_id: a retry finds its line and grants nothing twice.
        Refuses with ``grant_failed`` only when no retry can help (the workflow refunds)."""
        item = request.item.priced_in(self._catalogue, Currency(request.currency))
        if item is None:
            raise refusal(Fault.GRANT_FAILED, f"{request.item.item_id} left the catalogue")
        with transaction(self._sessions) as session:
            if request.record is not None:  # completed, with the credits or not at all
                save_purchase_view(session, request.record)
            purchase_event(
                session,
                account_id=request.account_id,
                purchase_id=request.purchase_id,
                item=request.item.model_dump(mode="json"),
                at=request.at,
            )
            if request.tier_change is not None:
                assert request.effective_at is not None
                try:
                    change_tier(
                        session,
                        account_id=request.account_id,
                        purchase_id=request.purchase_id,
                        tier=item,
                        direction=request.tier_change.direction,
                        effective_at=request.effective_at,
                        credits_now=request.credits_now,
                        at=request.at,
                    )
                except LookupError as exc:
                    raise refusal(Fault.GRANT_FAILED, str(exc)) from exc
                return
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
                raise refusal(Fault.GRANT_FAILED, str(exc)) from exc

    @activity.defn
    def refund_payment(self, request: RefundRequest) -> PaymentRef:
        """Give the money back after a grant failed for good. Key ``refund:purchase:{id}``.
        A refund the provider did not make (declined) is refused: no retry changes it."""
        result = self._gateway.refund(
            payment_id=request.payment_id,
            idempotency_key=refund_key(request.purchase_id),
            reference=f"refund of purchase {request.purchase_id}",
            at=request.at,
        )
        return _payment_ref(refund_made(result))

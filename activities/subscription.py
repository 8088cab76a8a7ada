"""The subscription workflow's side effects: the add-on snapshot, renewal charges,
renewals of the credit month, the end of the add-on, and goodwill credits.

Every activity acts on the period or moment the workflow passes in and never
reads the wall clock for a business decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from activities.payment_records import recorded_payment, settled_charge
from contracts.payment_janitor import Recorded
from contracts.subscription import (
    AddonChange,
    AddonLine,
    AddonSnapshot,
    ChargeOutcome,
    ChargeRequest,
    ChargeTerms,
    GoodwillGranted,
    GoodwillRequest,
    LineEnd,
    Renewal,
    RenewalOutcome,
)
from domain.addon import AddonTotals
from domain.calendar import Period
from domain.enums import AddonStatus, BillingCycle, GrantSource, Plan
from domain.receipts import ReceiptLine
from observability import metrics
from payments.gateway import GatewayRejected, PaymentResult
from store.db import read_only, transaction
from store.fact_events import renewal_event, suspended_event
from store.fact_mail import addon_ended_mail, renewal_declined_mail
from store.ledger import expire_all, expire_grants, grant_credits, lock_account
from store.lines import end_pack_line
from store.models import Account, AddonSubscription
from store.subscriptions import addon_totals, save_addon


def renewal_charge_key(request: ChargeRequest) -> str:
    key = f"renewal:{request.account_id}:{request.month_start:%Y-%m-%d}:attempt-{request.attempt}"
    return f"{key}:resend-{request.resend}" if request.resend else key


def charge_outcome(result: PaymentResult) -> ChargeOutcome:
    return settled_charge(result, ChargeOutcome)


def renewal_grant_key(account_id: str, month: Period) -> str:
    return f"renewal:{account_id}:{month.start:%Y-%m-%d}"


def goodwill_key(account_id: str, request_id: str) -> str:
    return f"goodwill:{account_id}:{request_id}"


class SubscriptionActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._catalogue = deps.catalogue
        self._gateway = deps.gateway
        self._retry_days = list(deps.dunning_retry_days)

    @activity.defn
    def load_addon_snapshot(self, account_id: str) -> AddonSnapshot | None:
        """Read-only (run as a local activity): the account's terms and its add-on,
        or None when the account has no add-on to keep."""
        with read_only(self._sessions) as session:  # never queues behind a renewal's writes
            account = session.get(Account, account_id)
            addon = session.get(AddonSubscription, account_id)
            if account is None or addon is None or addon.period_start is None:
                return None
            assert addon.period_end is not None
            return AddonSnapshot(
                account_id=account_id,
                status=AddonStatus(addon.status),
                currency=addon.currency,
                anchor=account.billing_anchor,
                plan_eligible=self._catalogue.plan_eligible(Plan(account.plan)),
                account_billing_cycle=BillingCycle(account.billing_cycle),
                addon_billing_cycle=BillingCycle(addon.billing_cycle),
                month=Period(start=addon.period_start, end=addon.period_end),
                next_charge_at=addon.next_charge_at,
                # The lines of the credit month the row is on; a renewal re-reads them.
                totals=addon_totals(session, account_id, addon.period_start),
                dunning_retry_days=self._retry_days,
            )

    @activity.defn
    def price_renewal_charge(self, request: ChargeRequest) -> ChargeTerms:
        """Read-only (run as a local activity, its answer recorded once): what the charge
        asks for and what its month grants, from the lines in force at ``request.at``."""
        with read_only(self._sessions) as session:
            totals = addon_totals(session, request.account_id, request.at)
        return ChargeTerms(
            amount_minor=request.charge.amount_minor(totals),
            monthly_credits=totals.monthly_credits,
        )

    @activity.defn
    def charge_addon_renewal(self, request: ChargeRequest) -> ChargeOutcome:
        """Charge the account's payment method ``request.amount_minor`` (or, for a
        request without it, the price of the active lines). Key:
        ``renewal:{account_id}:{month_start:%Y-%m-%d}:attempt-{n}[:resend-{k}]``; a lost
        answer raises and the retry gets the first result, never a second charge.
        A declined retry queues its mail (keyed by the attempt)."""
        with read_only(self._sessions) as session:
            account = session.get(Account, request.account_id)
            addon = session.get(AddonSubscription, request.account_id)
            if account is None or addon is None:
                raise LookupError(f"Account {request.account_id} has no add-on to charge.")
            amount = request.amount_minor
            if amount is None:
                amount = request.charge.amount_minor(
                    addon_totals(session, request.account_id, request.at)
                )
            # The lines' prices are in the currency the add-on was bought in, which is
            # the account's for life.
            payment_method, currency = account.payment_method, addon.currency
        period, key = request.charge.period, renewal_charge_key(request)
        renewal = f"SMS add-on renewal, {period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}"
        try:
            result = self._gateway.capture(
                account_id=request.account_id,
                amount_minor=amount,
                currency=currency,
                payment_method=payment_method,
                idempotency_key=key,
                reference=f"SMS add-on renewal {request.month_start:%Y-%m-%d}",
                at=request.at,
                lines=[ReceiptLine(description=renewal, amount_minor=amount)],
            )
        except GatewayRejected as refusal:
            metrics.RENEWAL_CHARGES_REFUSED.inc()
            activity.logger.error(
                "The payment provider refused the renewal charge %s itself, not the card: "
                "%s. Nothing was charged; it is sent again until the configuration is fixed "
                '(docs/runbook.md, "Renewal charge refused by the provider").',
                key,
                refusal,
            )
            raise
        outcome = charge_outcome(result)
        self._mail_declined_retry(request, outcome)
        return outcome

    @activity.defn
    def find_renewal_charge(self, request: ChargeRequest) -> Recorded[ChargeOutcome] | None:
        """A local activity: what the payments table holds under the request's key, for
        a charge whose answer never came (None: nothing was recorded, so nothing was
        charged under it). A retry the janitor settled as declined is mailed here."""
        recorded = recorded_payment(self._sessions, renewal_charge_key(request), charge_outcome)
        if recorded is not None and recorded.outcome is not None:
            self._mail_declined_retry(request, recorded.outcome)
        return recorded

    def _mail_declined_retry(self, request: ChargeRequest, outcome: ChargeOutcome) -> None:
        """A dunning retry declined (the first decline is mailed with the renewal it
        leaves unpaid). Keyed by the attempt: mailed once, by whichever path it is read."""
        if outcome.succeeded or outcome.unsent or request.attempt <= 1:
            return
        with transaction(self._sessions) as session:
            renewal_declined_mail(
                session,
                account_id=request.account_id,
                month_start=request.month_start,
                attempt=request.attempt,
                amount_minor=outcome.amount_minor,
                currency=outcome.currency,
                at=request.at,
            )

    @activity.defn
    def renew_addon_credits(self, renewal: Renewal) -> RenewalOutcome:
        """One transaction for the month: expire what is left of grants ending by its
        start (keys ``expire:{grant_id}``), grant its allotment unless the charge
        failed (key ``renewal:{account_id}:{month_start:%Y-%m-%d}``), write the row."""
        account_id, month = renewal.row.account_id, renewal.month
        with transaction(self._sessions) as session:
            expired = expire_grants(
                session,
                account_id=account_id,
                at=month.start,
                reference=f"renewal {month.start:%Y-%m-%d}",
            )
            totals = save_addon(session, renewal.row, renewal.at)
            granted = 0
            if renewal.grant:
                grant = grant_credits(
                    session,
                    account_id=account_id,
                    source=GrantSource.RENEWAL,
                    credits=totals.monthly_credits if renewal.credits is None else renewal.credits,
                    expires_at=month.end,
                    at=renewal.at,
                    reference=f"renewal {month.start:%Y-%m-%d}",
                    key=renewal_grant_key(account_id, month),
                )
                granted = grant.credits
            balance = lock_account(session, account_id).credit_balance
            first = renewal_event(
                session,
                account_id=account_id,
                month_start=month.start,
                paid=renewal.grant,
                granted=granted,
                balance=balance,
                at=renewal.at,
            )
            if first:  # a rerun of this write (its answer lost) is the same renewal
                metrics.renewal(session, granted=renewal.grant)
        return RenewalOutcome(expired=expired, granted=granted, balance=balance, totals=totals)

    @activity.defn
    def save_addon_state(self, change: AddonChange) -> AddonTotals:
        """Write the add-on row (status, period, next charge, end). Idempotent: it sets
        values, and the workflow serialises its writes so the last one is current."""
        with transaction(self._sessions) as session:
            return save_addon(session, change.row, change.at)

    @activity.defn
    def end_addon(self, end: AddonChange) -> int:
        """Cancel or suspend: expire every credit left (keys ``expire:{grant_id}``, so a
        retry expires nothing twice) and write the final row; returns credits expired."""
        with transaction(self._sessions) as session:
            expired = expire_all(
                session,
                account_id=end.row.account_id,
                at=end.at,
                reference=f"add-on {end.row.status.value}",
            )
            if session.get(AddonSubscription, end.row.account_id) is not None:
                save_addon(session, end.row, end.at)  # a row deleted by hand stays deleted
            metrics.count_on_commit(session, metrics.ADDONS_ENDED, status=end.row.status.value)
            if end.row.status is AddonStatus.SUSPENDED:
                suspended_event(session, account_id=end.row.account_id, at=end.at)
            addon_ended_mail(
                session, account_id=end.row.account_id, status=end.row.status, at=end.at
            )
        return expired

    @activity.defn
    def end_credit_pack(self, end: LineEnd) -> AddonLine:
        """End a credit pack line at ``end.ends_at``. Idempotent: it sets the end once
        and a retry answers the same line; refuses the tier line (``conflict``)."""
        with transaction(self._sessions) as session:
            return end_pack_line(session, end)

    @activity.defn
    def grant_goodwill_credits(self, request: GoodwillRequest) -> GoodwillGranted:
        """An operator's ``adjust`` grant until the next renewal.
        Key: ``goodwill:{account_id}:{request_id}``."""
        goodwill = request.grant
        with transaction(self._sessions) as session:
            grant = grant_credits(
                session,
                account_id=goodwill.account_id,
                source=GrantSource.ADJUSTMENT,
                credits=goodwill.credits,
                expires_at=request.expires_at,
                at=request.at,
                reference=f"goodwill: {goodwill.reason}",
                key=goodwill_key(goodwill.account_id, goodwill.request_id),
            )
            balance = lock_account(session, goodwill.account_id).credit_balance
        assert grant.expires_at is not None
        return GoodwillGranted(credits=grant.credits, expires_at=grant.expires_at, balance=balance)


def subscription_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    subscription = SubscriptionActivities(deps)
    return [
        subscription.load_addon_snapshot,
        subscription.price_renewal_charge,
        subscription.charge_addon_renewal,
        subscription.find_renewal_charge,
        subscription.renew_addon_credits,
        subscription.save_addon_state,
        subscription.end_addon,
        subscription.grant_goodwill_credits,
        subscription.end_credit_pack,
    ]

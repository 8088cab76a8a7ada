"""What the billing page shows beside the JSON API's billing data: the account's name,
this credit month's usage, its low-balance alert, the purchases its history names (so a row
can say what was bought) and whether a purchase is being processed."""

from __future__ import annotations

from dataclasses import dataclass

from application.authorization import Action, Permit
from application.billing_view import BillingPage
from application.context import Services
from contracts.purchase import PurchaseView
from domain.calendar import Period
from domain.enums import PurchaseStatus
from domain.usage import MonthUsage
from store.db import read_only
from store.event_models import AlertSettings
from store.models import Account
from store.purchases import recent_purchases, view_of
from store.usage import usage_in

# Enough to name every purchase the page's recent credit activity and payments show.
NAMED_PURCHASES = 50


@dataclass(frozen=True)
class PageExtras:
    account_name: str
    usage: MonthUsage | None  # None without a credit month (no live add-on)
    low_balance_threshold: int | None
    purchases: dict[str, PurchaseView]  # the recent ones, by id
    in_flight: bool  # a confirmed purchase is being processed


def page_extras(services: Services, permit: Permit, billing: BillingPage) -> PageExtras:
    permit.require(Action.READ_BILLING)
    addon, account_id = billing.addon, permit.account_id
    with read_only(services.sessions) as session:
        usage = None
        if addon.period_start is not None and addon.period_end is not None:
            month = Period(start=addon.period_start, end=addon.period_end)
            usage = usage_in(session, account_id, month)
        account = session.get(Account, account_id)
        alerts = session.get(AlertSettings, account_id)
        rows = recent_purchases(session, account_id, None, NAMED_PURCHASES)
        purchases = {row.purchase_id: view_of(session, row) for row in rows}
    return PageExtras(
        account_name=account_id if account is None else account.name,
        usage=usage,
        low_balance_threshold=None if alerts is None else alerts.low_balance_threshold,
        purchases=purchases,
        in_flight=any(p.status is PurchaseStatus.PROCESSING for p in purchases.values()),
    )

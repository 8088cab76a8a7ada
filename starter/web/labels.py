"""Names of the service's values on the page (gettext message ids, marked with ``N_``
for extraction and translated when rendered)."""

from __future__ import annotations

from starter.web.notices import N_

PLAN = {
    "starter": N_("Starter"),
    "plus": N_("Plus"),
    "professional": N_("Professional"),
    "enterprise": N_("Enterprise"),
}
BILLING_CYCLE = {"monthly": N_("Monthly"), "annual": N_("Annual")}
ADDON_STATUS = {
    "inactive": N_("Not added"),
    "active": N_("Active"),
    "past_due": N_("Payment overdue"),
    "cancelling": N_("Cancelled, active until the end of the period"),
    "suspended": N_("Suspended"),
    "cancelled": N_("Cancelled"),
}
ENTRY_KIND = {
    "grant": N_("Credits added"),
    "expire": N_("Credits expired"),
    "debit": N_("Messages sent"),
    "refund": N_("Credits refunded"),
    "adjust": N_("Adjustment"),
}
PAYMENT_KIND = {"capture": N_("Charge"), "refund": N_("Refund")}
# A payment's status says what it did: a refund that went through is "Refunded".
PAYMENT_STATUS = {
    ("capture", "succeeded"): N_("Paid"),
    ("capture", "declined"): N_("Declined"),
    ("refund", "succeeded"): N_("Refunded"),
    ("refund", "declined"): N_("Refund failed"),
}
RECEIPT_KIND = {"payment": N_("Payment"), "refund": N_("Refund")}
# A price and its interval (API.md's ``interval``: month or year).
PER_INTERVAL = {"month": N_("%(price)s per month"), "year": N_("%(price)s per year")}
ITEM_NAME = {
    "addon": N_("SMS add-on, %(credits)s credits/month"),
    "credit_pack": N_("Extra credits, %(credits)s credits/month"),
}

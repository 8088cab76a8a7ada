"""What each row of the page's credit activity and payments says happened, in words:
what was bought (named from the purchase it came from), renewed, sent, expired or
refunded, instead of only the kind of entry.

A row's ``reference`` is written where the money or credits moved (the purchase,
renewal, sending, top-up and operator steps); this module reads those shapes back.
A reference it does not know still reads as its kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from application.billing_history import LedgerEntryOut, PaymentOut
from contracts.purchase import PurchaseView
from domain.enums import EntryKind, ItemType, PaymentKind
from domain.pricing import TierDirection
from domain.usage import sent_to
from starter.web import labels
from starter.web.i18n import Formats
from starter.web.notices import N_
from starter.web.usage_chart import country_name

Gettext = Callable[[str], str]

_PURCHASE = re.compile(r"(?:refund of )?purchase (\S+)$")
_OPERATOR_REFUND = re.compile(r"operator refund of (\S+)$")
_REASONS = [  # (kind of row, how its reference starts, what it says)
    (EntryKind.GRANT, "renewal ", N_("Monthly renewal")),
    (EntryKind.GRANT, "auto top-up ", N_("Auto top-up")),
    (EntryKind.EXPIRE, "renewal ", N_("Unused credits expired at the renewal")),
    (EntryKind.EXPIRE, "add-on ", N_("Credits expired: the SMS add-on ended")),
    (EntryKind.ADJUST, "goodwill: ", N_("Goodwill credits")),
    (EntryKind.ADJUST, "revoked with refund", N_("Credits removed with a refund")),
    (PaymentKind.CAPTURE, "SMS add-on renewal ", N_("Monthly renewal")),
    (PaymentKind.CAPTURE, "auto top-up ", N_("Auto top-up")),
    (PaymentKind.REFUND, "prorated refund", N_("Refund of the unused days")),
]


@dataclass(frozen=True)
class History:
    """Words for the rows, in one language, knowing the purchases they name."""

    purchases: Mapping[str, PurchaseView]
    payments: Mapping[str, PaymentOut]  # the ones shown, by id: what a refund gave back
    credits_of: Mapping[str, int]  # an item's credits per month, by its id
    fmt: Formats
    gettext: Gettext

    def entry(self, entry: LedgerEntryOut) -> str:
        """E.g. "Bought: Extra credits, 500 credits/month", "Messages sent to Brazil"."""
        item = self._purchased(entry.reference)
        if item is not None:
            return item.said if item.changes_tier else self._say(N_("Bought: %(item)s"), item.name)
        country = sent_to(entry.reference) if entry.kind is EntryKind.DEBIT else None
        if country is not None:
            name = country_name(country, self.fmt)
            return self.gettext(N_("Messages sent to %(country)s")) % {"country": name}
        return self._reason(entry.kind, entry.reference) or self.gettext(
            labels.ENTRY_KIND[entry.kind]
        )

    def payment(self, payment: PaymentOut) -> str:
        """E.g. "SMS add-on, 1,000 credits/month", "Monthly renewal", "Refund: …"."""
        item = self._purchased(payment.reference)
        if item is not None and payment.kind is PaymentKind.REFUND:
            return self._say(N_("Refund: %(item)s"), item.name)
        operator = _OPERATOR_REFUND.match(payment.reference)
        capture = None if operator is None else self.payments.get(operator.group(1))
        if capture is not None and capture.kind is PaymentKind.CAPTURE:
            return self._say(N_("Refund: %(item)s"), self.payment(capture))
        if item is not None:
            return item.said
        return self._reason(payment.kind, payment.reference) or self.gettext(
            labels.PAYMENT_KIND[payment.kind]
        )

    def status(self, payment: PaymentOut) -> str:
        """Paid, Declined, Refunded (a refund row), Refund failed."""
        return self.gettext(labels.PAYMENT_STATUS[(payment.kind, payment.status)])

    def _say(self, message: str, item: str) -> str:
        return self.gettext(message) % {"item": item}

    def _reason(self, kind: EntryKind | PaymentKind, reference: str) -> str | None:
        for row_kind, starts, message in _REASONS:
            if kind is row_kind and reference.startswith(starts):
                return self.gettext(message)
        return None

    def _purchased(self, reference: str) -> _Item | None:
        """The item of the purchase a reference names; None when it names none, or one
        the page did not read."""
        found = _PURCHASE.match(reference)
        purchase = None if found is None else self.purchases.get(found.group(1))
        if purchase is None:
            return None
        item = purchase.item
        credits = self.credits_of.get(item.item_id)
        if credits is None:
            return None
        name = self.gettext(labels.ITEM_NAME[item.type]) % {"credits": self.fmt.number(credits)}
        change = None if purchase.quote is None else purchase.quote.tier_change
        if item.type is not ItemType.ADDON or change is None:
            return _Item(name, name)
        upgrade = change.direction is TierDirection.UPGRADE
        said = self._say(N_("Upgrade: %(item)s") if upgrade else N_("Downgrade: %(item)s"), name)
        return _Item(name, said, changes_tier=True)


@dataclass(frozen=True)
class _Item:
    name: str  # "SMS add-on, 1,000 credits/month"
    said: str  # the name, or what a tier change made of it ("Upgrade: …")
    changes_tier: bool = False  # says itself, not "Bought: …"

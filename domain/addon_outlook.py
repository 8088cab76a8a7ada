"""What the add-on does next, told once for everyone who shows it.

From the add-on as its subscription keeps it (``AddonRow``) and its lines: the
next charge (amount, currency, date), the monthly credits now
and after the next renewal, the lines with their bounds, and the changes that
wait for a renewal (a pack ending, a downgrade starting, the add-on ending).

The billing data (``GET …/sms``), the billing page, the review of a purchase and
the subscription's details line in the Temporal UI all read it, so none can
disagree with another; the amount is priced as the renewal charge is (the lines in
force when it is charged, ``BillingCharge.amount_minor``), so none disagrees with
what is charged either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.billing import AddonTotals, BilledLine, BillingCharge
from domain.calendar import Period
from domain.enums import AddonStatus, BillingCycle, ItemType

LIVE_STATUSES = frozenset({AddonStatus.ACTIVE, AddonStatus.PAST_DUE, AddonStatus.CANCELLING})


class AddonRow(BaseModel):
    """What the billing page's row should say (store.subscriptions.save_addon writes it)."""

    account_id: str
    status: AddonStatus
    billing_cycle: BillingCycle
    month: Period
    next_charge_at: datetime | None
    next_charge: BillingCharge | None
    ends_at: datetime | None


class ChangeKind(StrEnum):
    PACK_ENDS = "pack_ends"  # a credit pack ends at the renewal: its credits stop then
    TIER_STARTS = "tier_starts"  # a downgrade's tier starts at the renewal
    ADDON_ENDS = "addon_ends"  # the add-on was cancelled: it ends then


class PendingChange(BaseModel):
    """A change already decided that takes effect at ``at``."""

    model_config = ConfigDict(frozen=True)

    kind: ChangeKind
    at: datetime
    line_id: str | None = None
    item_id: str | None = None
    credits_per_month: int | None = None  # the pack's or the new tier's


class NextCharge(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount_minor: int
    currency: str
    at: datetime


class AddonOutlook(BaseModel):
    """Every figure of the add-on that anyone shows."""

    model_config = ConfigDict(frozen=True)

    status: AddonStatus
    currency: str
    renews_at: datetime | None  # the next credit renewal, while the add-on lives
    next_charge: NextCharge | None
    monthly_credits: int  # the allotment of the lines in force in this credit month
    # What the next renewal grants; None when the add-on ends by then.
    monthly_credits_after_renewal: int | None
    lines: tuple[BilledLine, ...]  # in force this month, or starting later; none once ended
    pending: tuple[PendingChange, ...]


def addon_outlook(row: AddonRow, currency: str, lines: Iterable[BilledLine]) -> AddonOutlook:
    """The add-on's figures in its current credit month: ``row`` as its subscription
    keeps it, ``lines`` every line not retired (bounded or not).

    A line's bounds fall on renewals only (a pack or a downgrade waits for one; an
    upgrade retires the old tier line at once), so what counts now is what counts
    from the start of the month: no clock is read, and the API and the workflow,
    each on its own clock, tell the same figures."""
    now = row.month.start
    if row.status not in LIVE_STATUSES:
        return AddonOutlook(
            status=row.status,
            currency=currency,
            renews_at=None,
            next_charge=None,
            monthly_credits=0,
            monthly_credits_after_renewal=None,
            lines=(),
            pending=(),
        )
    shown = tuple(line for line in lines if not line.ended_by(now))
    renews_at = row.month.end
    ends_by_renewal = row.ends_at is not None and row.ends_at <= renews_at
    return AddonOutlook(
        status=row.status,
        currency=currency,
        renews_at=renews_at,
        next_charge=_next_charge(row, currency, shown),
        monthly_credits=AddonTotals.at(shown, now).monthly_credits,
        monthly_credits_after_renewal=(
            None if ends_by_renewal else AddonTotals.at(shown, renews_at).monthly_credits
        ),
        lines=shown,
        pending=_pending(row, shown, now),
    )


def _next_charge(row: AddonRow, currency: str, lines: tuple[BilledLine, ...]) -> NextCharge | None:
    """Priced with the lines in force when it is charged (a pack may end, or a
    downgrade start, first), exactly as the renewal charge is."""
    if row.next_charge is None or row.next_charge_at is None:
        return None
    totals = AddonTotals.at(lines, row.next_charge_at)
    return NextCharge(
        amount_minor=row.next_charge.amount_minor(totals), currency=currency, at=row.next_charge_at
    )


def _pending(
    row: AddonRow, lines: tuple[BilledLine, ...], now: datetime
) -> tuple[PendingChange, ...]:
    if row.ends_at is not None:  # nothing else matters once the add-on ends
        return (PendingChange(kind=ChangeKind.ADDON_ENDS, at=row.ends_at),)
    changes = [_change_of(line, now) for line in lines]
    return tuple(sorted((c for c in changes if c is not None), key=lambda c: c.at))


def _change_of(line: BilledLine, now: datetime) -> PendingChange | None:
    if line.kind is ItemType.ADDON and line.starts_at is not None and line.starts_at > now:
        kind, at = ChangeKind.TIER_STARTS, line.starts_at
    elif line.kind is ItemType.CREDIT_PACK and line.ends_at is not None:
        kind, at = ChangeKind.PACK_ENDS, line.ends_at
    else:
        return None  # unbounded, or a tier whose end is the start of its successor
    return PendingChange(
        kind=kind,
        at=at,
        line_id=line.line_id,
        item_id=line.item_id,
        credits_per_month=line.credits_per_month,
    )


def renewal_totals(
    lines: Iterable[BilledLine], renewal_at: datetime, replaced_tier: BilledLine | None = None
) -> AddonTotals:
    """The add-on at its next renewal as a purchase prices its recurring change: the
    lines as they stand then (a pack adds to them), or, for a tier change, with the
    tier in force now, ``replaced_tier``, in place of any tier change still waiting
    (the new tier replaces both)."""
    if replaced_tier is not None:
        kept = replaced_tier.model_copy(update={"starts_at": None, "ends_at": None})
        lines = [line for line in lines if line.kind is ItemType.CREDIT_PACK] + [kept]
    return AddonTotals.at(lines, renewal_at)

"""A renewal's charge the payment provider refuses itself, not the card (a revoked or
live/test-mixed API key, a parameter it no longer takes): ours to fix, never the
customer's to pay for. The rules of how such a renewal waits (docs/design.md,
"Failure policy: the subscription").

The customer is kept whole: each refused attempt is closed as never sent (by the
payment janitor) and the charge is sent again, so it is never charged twice, and the
add-on is neither declined nor ended for it. One refusal may be a deploy caught between
two keys; ``REFUSALS_FOR_GOOD`` in a row are not: the refusal is then taken as for good,
the renewal is *blocked* until an operator fixes the configuration, and it waits the
longest pause between its tries, since nothing but that fix can change the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

# Refused sends in a row after which the refusal is taken as for good.
REFUSALS_FOR_GOOD = 3


@dataclass(frozen=True)
class ProviderRefusals:
    """The sends of one renewal's charge the provider refused in a row, and since when."""

    count: int = 0
    since: datetime | None = None

    def after_send(self, *, refused: bool, at: datetime) -> ProviderRefusals:
        """After a send that brought no outcome: one refusal more in a row, or none
        (a send that got no answer at all finds the provider out, not refusing)."""
        if not refused:
            return ProviderRefusals()
        return replace(self, count=self.count + 1, since=self.since or at)

    @property
    def for_good(self) -> bool:
        """Refused too often in a row for a passing cause: the renewal is blocked, and
        waits the longest pause between its tries (``workflows.outages.Pauses``)."""
        return self.count >= REFUSALS_FOR_GOOD

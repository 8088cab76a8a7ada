"""Waiting out what a workflow depends on being down, on durable timers.

A step that reads the database makes a few quick tries (``DATABASE_READ``); when the
database does not answer within it, the step is tried again after a pause that starts
short and doubles (``OUTAGE_FIRST_PAUSE`` to ``OUTAGE_LONGEST_PAUSE``), however long
the outage lasts. Meanwhile the workflow says why it cannot act, and its messages are
refused with that (503 ``service_unavailable``) instead of waiting behind the step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from boundary.errors import refusal, refusal_of
    from boundary.options import OUTAGE_FIRST_PAUSE, OUTAGE_LONGEST_PAUSE
    from domain.errors import ErrorCode

T = TypeVar("T")

# Waiting out a database outage instead of ending the subscription (added after
# histories were recorded): its marker.
DATABASE_OUTAGE_PATCH = "database-outage-waited-out"


def unavailable(doing: str) -> ApplicationError:
    """The refusal of a message that cannot act while the database does not answer."""
    return refusal(
        ErrorCode.SERVICE_UNAVAILABLE,
        f"The database is not answering ({doing}); try again shortly.",
    )


class Pauses:
    """Durable pauses between tries: the first short, each next one twice as long."""

    def __init__(self) -> None:
        self._next: timedelta = OUTAGE_FIRST_PAUSE

    def next(self, *, longest: bool = False) -> timedelta:
        """The pause to take now, the one after it twice as long (no timer: pure).
        ``longest``: the longest at once, when only an operator can change the answer."""
        pause = OUTAGE_LONGEST_PAUSE if longest else self._next
        self._next = min(2 * pause, OUTAGE_LONGEST_PAUSE)
        return pause

    async def wait(self, summary: str, *, longest: bool = False) -> None:
        await workflow.sleep(self.next(longest=longest), summary=summary)


class Outage:
    """What the workflow is waiting out now, if anything."""

    def __init__(self) -> None:
        self.doing: str | None = None

    async def waited_out(self, step: Callable[[], Awaitable[T]], doing: str) -> T:
        """``step``'s answer once the database gives it; a refusal is raised as it came."""
        pauses = Pauses()
        while True:
            try:
                answer = await step()
            except (ActivityError, ApplicationError) as error:  # a local activity's: either
                if refusal_of(error) is not None or not workflow.patched(DATABASE_OUTAGE_PATCH):
                    raise
                self.doing = doing
                workflow.logger.warning("Waiting out a database outage while %s: %s", doing, error)
                await pauses.wait(f"database unavailable while {doing}: try again")
                continue
            self.doing = None
            return answer

    def refuse_meanwhile(self) -> None:
        """A message cannot act while the workflow cannot reach the database."""
        if self.doing is not None:
            raise unavailable(self.doing)

"""Why the subscription refuses a message to the add-on: checked in each update's
validator first (refused there, a request leaves nothing in the history), and again
once the update holds the add-on's lock, where the state may have moved meanwhile."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.addon_keeper import AddonKeeper

with workflow.unsafe.imports_passed_through():
    from boundary.errors import refusal
    from domain.errors import ErrorCode


def not_active() -> ApplicationError:
    return refusal(ErrorCode.ADDON_NOT_ACTIVE, "The SMS add-on is not active.")


def not_cancelling() -> ApplicationError:
    return refusal(ErrorCode.ADDON_NOT_CANCELLING, "The SMS add-on is not being cancelled.")


def refuse_unless_live(addon: AddonKeeper) -> None:
    """Refused at once while the add-on cannot be read or written (503), or once it
    has ended."""
    addon.outage.refuse_meanwhile()
    if addon.loaded and not addon.state.live:
        raise not_active()


def refuse_while_charging(addon: AddonKeeper) -> None:
    """Ending now would leave a charge in flight paying for an ended add-on."""
    if addon.loaded and addon.state.charging is not None:
        raise refusal(
            ErrorCode.SERVICE_UNAVAILABLE,
            "A renewal payment is being collected; end the add-on once it has settled.",
        )

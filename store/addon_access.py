"""Whether an account's add-on lets it send (API.md "Sending"): a send from an account
without an active add-on answers ``addon_not_active``, not ``insufficient_credits``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.addon import SENDING_STATUSES
from domain.enums import AddonStatus
from domain.errors import DomainError, ErrorCode
from store.models import AddonSubscription


def require_sending_addon(session: Session, account_id: str) -> None:
    """Refuse the send unless the add-on is active (or cancelling, until it ends).
    Run inside the debit's transaction so the answer and the debit agree."""
    addon = session.get(AddonSubscription, account_id)
    status = AddonStatus.INACTIVE if addon is None else AddonStatus(addon.status)
    if status not in SENDING_STATUSES:
        raise DomainError(
            ErrorCode.ADDON_NOT_ACTIVE,
            f"Sending needs an active SMS add-on; the account's add-on is {status.value}.",
        )

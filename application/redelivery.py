"""An operator sends a failed webhook delivery again (admin token; ``sms-addon ops
redeliver``): the event is pending again in a new delivery round, audited with what
the failed round had tried. The caller starts the round's workflow once this has
committed (the event sweep starts it if that start is lost)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from application.alerts import DeliveryOut
from application.authorization import Action, Permit
from application.context import Services
from application.errors import ApiError
from contracts.operator import AuditAction
from domain.errors import ErrorCode
from domain.events import DeliveryStatus, delivery_state
from store.db import transaction
from store.events import FollowUp, account_event, alert_settings, reopen_delivery
from store.operator import write_audit


class RedeliveryOut(BaseModel):
    event_id: str
    delivery: DeliveryOut


def reopen(services: Services, permit: Permit, event_id: str, operator: str) -> FollowUp:
    """Begin a new delivery round of a failed event: the workflow to start once this
    has committed. 404 for an event not in the account; 409 unless its delivery failed
    and the account still has a webhook."""
    permit.require(Action.REDELIVER)
    account_id = permit.account_id
    with transaction(services.sessions) as session:
        row = account_event(session, account_id, event_id)
        if row is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"{account_id} has no event {event_id}.")
        if row.delivery_status != DeliveryStatus.FAILED.value:
            state = delivery_state(row.delivery_status).value
            raise ApiError(
                ErrorCode.CONFLICT,
                f"Only a failed delivery can be sent again; this one is {state}.",
            )
        settings = alert_settings(session, account_id)
        if settings is None or settings.webhook_url is None:
            raise ApiError(ErrorCode.CONFLICT, "The account has no webhook now; nothing to send.")
        failed = {"attempts": row.delivery_attempts, "error": row.delivery_error}
        round_ = reopen_delivery(row)
        write_audit(
            session,
            account_id=account_id,
            action=AuditAction.REDELIVER,
            operator=operator,
            reason="webhook delivery failed",
            payload={"event_id": event_id, "round": round_, "failed_round": failed},
            reference=event_id,
            key=f"{event_id}:{round_}",
            at=datetime.now(UTC),
        )
        return FollowUp("event", account_id, event_id, round_)

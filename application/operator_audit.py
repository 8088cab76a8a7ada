"""What every operator action shares: the scope of its request keys, and its audit
record, which also holds its answer so that a repeat with the same key answers the
first result without acting again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from application.context import Services
from contracts.operator import AuditAction
from contracts.subscription import REASON_MAX_LENGTH
from store.db import read_only, transaction
from store.operator import find_audit, write_audit

Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX_LENGTH, pattern=r"^[^\x00]+$")]


def admin_scope(account_id: str) -> str:
    """The scope of an operator's request keys: never mixed with the account's own."""
    return f"admin:{account_id}"


def first_answer(services: Services, account_id: str, action: AuditAction, key: str) -> Any:
    """What the first request with this key answered, if it was carried out."""
    with read_only(services.sessions) as session:
        record = find_audit(session, account_id, action, key)
        return None if record is None else record.payload.get("result")


def record_action(
    services: Services,
    *,
    account_id: str,
    action: AuditAction,
    operator: str,
    reason: str,
    key: str,
    payload: dict[str, Any],
    answer: BaseModel,
    reference: str | None,
) -> None:
    """The action's audit record, once per key, with its answer."""
    with transaction(services.sessions) as session:
        write_audit(
            session,
            account_id=account_id,
            action=action,
            operator=operator,
            reason=reason,
            payload={**payload, "result": answer.model_dump(mode="json")},
            reference=reference,
            key=key,
            at=datetime.now(UTC),
        )

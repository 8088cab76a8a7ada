"""Side effects of the A2P 10DLC registration workflow: the registration row and reminders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from contracts.registration import RegistrationRecord, RegistrationReminder
from store.db import transaction
from store.models import A2pRegistration


class RegistrationActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name="record_a2p_registration")
    def record_registration(self, record: RegistrationRecord) -> None:
        """Make the account's registration row say ``record``.

        Idempotent by (account_id, submission, status): writing the same record
        again leaves the same row, and a record of an older submission than the
        row's never overwrites it.
        """
        with transaction(self._deps.sessions) as session:
            row = session.get(A2pRegistration, record.account_id, with_for_update=True)
            if row is None:
                row = A2pRegistration(account_id=record.account_id, submitted_at=record.at)
                session.add(row)
            elif row.submission > record.submission:
                return
            if row.submission != record.submission:
                row.submitted_at = record.at
            row.status = record.status.value
            row.reason = record.reason
            row.brand = record.details.brand.model_dump(mode="json")
            row.campaign = record.details.campaign.model_dump(mode="json")
            row.submission = record.submission
            row.updated_at = record.at

    @activity.defn(name="remind_a2p_registration")
    def remind(self, reminder: RegistrationReminder) -> None:
        """Tell operators a carrier decision is late. Idempotent by
        ``a2p-reminder:{account_id}:{submission}:{step}:{number}``: a retry repeats
        the same log line with the same key, which alerting deduplicates."""
        key = (
            f"a2p-reminder:{reminder.account_id}:{reminder.submission}"
            f":{reminder.step.value}:{reminder.number}"
        )
        activity.logger.warning(
            "A2P 10DLC %s review of account %s (submission %d) has waited since %s "
            "for the carrier; reminder %d (key %s)",
            reminder.step.value,
            reminder.account_id,
            reminder.submission,
            reminder.waiting_since.isoformat(),
            reminder.number,
            key,
        )


def registration_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    activities = RegistrationActivities(deps)
    return [activities.record_registration, activities.remind]

"""Side effects of the A2P 10DLC registration workflow: the registration row and reminders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.deps import ActivityDeps
from contracts.registration import RegistrationRecord, RegistrationReminder
from store.db import transaction
from store.registrations import save_registration


class RegistrationActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._deps = deps

    @activity.defn(name="record_a2p_registration")
    def record_registration(self, record: RegistrationRecord) -> None:
        """Make the account's registration row say ``record``; idempotent by (account_id,
        submission, status), and never back to an older submission."""
        with transaction(self._deps.sessions) as session:
            save_registration(session, record)

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

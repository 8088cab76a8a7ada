"""Activities of events: the webhook POST, its record, and starting the workflows that
deliver events, buy top-ups and send mail (after a write, and from the sweep)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from contracts.events import DeliveryAttempt, DeliveryRecord, EventDelivery, SweepReport
from domain.events import DeliveryStatus, webhook_body
from outbound.follow_ups import start_follow_ups
from outbound.webhooks import WebhookNotAccepted, address_refusal, post_signed
from store.balance_watch import in_flight_top_ups
from store.db import read_only, transaction
from store.events import FollowUp, alert_settings, find_event, mark_delivery, pending_events
from store.mail import pending_mail

# How many records one sweep starts work for; the next sweep takes the rest.
SWEEP_BATCH = 200
NOT_ACCEPTED = "webhook_not_accepted"


class EventActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._client = deps.client
        self._allow_private = deps.webhook_allow_private

    @activity.defn
    async def post_event(self, delivery: EventDelivery) -> DeliveryAttempt:
        """POST the event, signed, to the account's webhook as it is now; a non-2xx or
        no answer raises (retried with backoff). Receivers dedupe by ``event_id``: a
        retry after a lost answer sends it again (at least once)."""
        target = await asyncio.to_thread(self._target, delivery)
        if target is None:
            return DeliveryAttempt(sent=False)
        url, secret, body = target
        refused = await asyncio.to_thread(address_refusal, url, self._allow_private)
        if refused is not None:
            raise ApplicationError(refused, type=NOT_ACCEPTED)
        try:
            status = await post_signed(url, secret, body)
        except WebhookNotAccepted as exc:
            raise ApplicationError(str(exc), type=NOT_ACCEPTED) from exc
        return DeliveryAttempt(sent=True, status_code=status)

    def _target(self, delivery: EventDelivery) -> tuple[str, str, bytes] | None:
        with read_only(self._sessions) as session:
            event = find_event(session, delivery.event_id)
            if event is None or event.delivery_status != DeliveryStatus.PENDING.value:
                return None
            settings = alert_settings(session, event.account_id)
            if settings is None or settings.webhook_url is None or not settings.webhook_secret:
                return None
            body = webhook_body(event.event_id, event.account_id, event.at, event.type, event.data)
            return settings.webhook_url, settings.webhook_secret, body

    @activity.defn
    def record_delivery(self, attempt: DeliveryRecord) -> None:
        """Mark the event delivered (or dropped: no webhook any more). Idempotent: only a
        pending event changes."""
        status = DeliveryStatus.DELIVERED if attempt.sent else DeliveryStatus.DROPPED
        with transaction(self._sessions) as session:
            mark_delivery(session, attempt.event_id, status, attempt.at)

    @activity.defn
    async def dispatch_events(self, account_id: str) -> int:
        """Start the delivery of every pending event of the account (after a write)."""
        items = await asyncio.to_thread(self._pending, account_id)
        return await start_follow_ups(self._client, activity.info().task_queue, items)

    @activity.defn
    async def sweep(self) -> SweepReport:
        """Start whatever a lost start left waiting: deliveries of pending events,
        top-ups still in flight and pending mail (which activities, such as renewals,
        write without starting). Safe to repeat: starts are keyed by workflow id."""
        events = await asyncio.to_thread(self._pending, None)
        top_ups = await asyncio.to_thread(self._in_flight)
        mail = await asyncio.to_thread(self._unsent)
        queue = activity.info().task_queue
        return SweepReport(
            deliveries_started=await start_follow_ups(self._client, queue, events),
            top_ups_started=await start_follow_ups(self._client, queue, top_ups),
            mails_started=await start_follow_ups(self._client, queue, mail),
        )

    def _pending(self, account_id: str | None) -> list[FollowUp]:
        with read_only(self._sessions) as session:
            rows = pending_events(session, SWEEP_BATCH, account_id)
            return [FollowUp("event", row.account_id, row.event_id) for row in rows]

    def _in_flight(self) -> list[FollowUp]:
        with read_only(self._sessions) as session:
            rows = in_flight_top_ups(session, SWEEP_BATCH)
            return [FollowUp("top_up", row.account_id, row.top_up_id) for row in rows]

    def _unsent(self) -> list[FollowUp]:
        with read_only(self._sessions) as session:
            rows = pending_mail(session, SWEEP_BATCH)
            return [FollowUp("mail", row.account_id, row.mail_id) for row in rows]


def event_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    events = EventActivities(deps)
    return [events.post_event, events.record_delivery, events.dispatch_events, events.sweep]

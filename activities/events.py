"""Activities of events: the webhook POST, its record, and starting the workflows that
deliver events, buy top-ups and send mail (after a write, and from the sweep)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import ActivityDeps
from contracts.events import DeliveryAttempt, DeliveryRecord, EventDelivery, SweepReport
from domain.events import WEBHOOK_REFUSED, DeliveryStatus, webhook_body
from outbound.follow_ups import start_follow_ups
from outbound.webhook_signing import signature_headers
from outbound.webhooks import WebhookNotAccepted, WebhookRefused, post_signed
from store.balance_watch import in_flight_top_ups
from store.db import read_only, transaction
from store.events import (
    FollowUp,
    alert_settings,
    count_attempt,
    delivering,
    mark_delivery,
    pending_events,
)
from store.mail import pending_mail

# How many records one sweep starts work for; the next sweep takes the rest.
SWEEP_BATCH = 200
# A sweep's starts are spread over this share of its interval, leaving the rest for a
# slow start or two before the next sweep is due (a sweep still running skips it).
SWEEP_SPREAD = 0.8
LONGEST_GAP = timedelta(seconds=2)
NOT_ACCEPTED = "webhook_not_accepted"


@dataclass(frozen=True)
class _Target:
    url: str
    secret: str
    body: bytes


class _Pace:
    """Waits between a sweep's starts so that ``count`` of them fill ``spread``; never
    longer than ``LONGEST_GAP`` (a small batch is not held back, and the attempt
    heartbeats well within its timeout)."""

    def __init__(self, spread: timedelta, count: int) -> None:
        self._gap = min(spread / max(count, 1), LONGEST_GAP).total_seconds()
        self._first = True

    async def wait(self) -> None:
        if not self._first:
            await asyncio.sleep(self._gap)
        self._first = False


class EventActivities:
    def __init__(self, deps: ActivityDeps) -> None:
        self._sessions = deps.sessions
        self._client = deps.client
        self._allow_private = deps.webhook_allow_private
        self._delivery_retry = deps.webhook_delivery_retry
        # The sweep's starts fill this share of its interval (none: all at once).
        self._sweep_spread = (deps.event_sweep_every or timedelta(0)) * SWEEP_SPREAD

    @activity.defn
    async def post_event(self, delivery: EventDelivery) -> DeliveryAttempt:
        """POST the event, signed, to the account's webhook as it is now. No 2xx raises:
        the workflow tries again later, unless retrying cannot help (an address that may
        not be reached, a 4xx other than 408/429: ``webhook_refused``, non-retryable).
        Safe to repeat: receivers dedupe by ``webhook-id`` (the event id), so a retry
        after a lost answer sends the same event again (at least once)."""
        attempt = delivery.attempt or activity.info().attempt
        target = await asyncio.to_thread(self._target, delivery, attempt)
        if target is None:
            return DeliveryAttempt(sent=False)
        headers = signature_headers(
            target.secret, delivery.event_id, datetime.now(UTC), target.body
        )
        try:
            status = await post_signed(target.url, headers, target.body, self._allow_private)
        except WebhookRefused as exc:
            raise ApplicationError(str(exc), type=WEBHOOK_REFUSED, non_retryable=True) from exc
        except WebhookNotAccepted as exc:
            raise ApplicationError(str(exc), type=NOT_ACCEPTED) from exc
        return DeliveryAttempt(sent=True, status_code=status)

    def _target(self, delivery: EventDelivery, attempt: int) -> _Target | None:
        """What to send, counting the attempt; None when the round has nothing to send
        (the event is no longer pending in this round, or the webhook was turned off)."""
        with transaction(self._sessions) as session:
            event = delivering(session, delivery.event_id, delivery.round)
            if event is None:
                return None
            settings = alert_settings(session, event.account_id)
            if settings is None or settings.webhook_url is None or not settings.webhook_secret:
                return None
            count_attempt(session, event.event_id, delivery.round, attempt)
            body = webhook_body(event.event_id, event.account_id, event.at, event.type, event.data)
            return _Target(settings.webhook_url, settings.webhook_secret, body)

    @activity.defn
    def record_delivery(self, attempt: DeliveryRecord) -> None:
        """Mark the round's end: delivered, failed (with why), or dropped (no webhook any
        more). Idempotent: only the event pending in this round changes."""
        if attempt.sent:
            status = DeliveryStatus.DELIVERED
        elif attempt.failure is not None:
            status = DeliveryStatus.FAILED
        else:
            status = DeliveryStatus.DROPPED
        with transaction(self._sessions) as session:
            mark_delivery(
                session, attempt.event_id, attempt.round, status, attempt.at, attempt.failure
            )

    @activity.defn
    async def dispatch_events(self, account_id: str) -> int:
        """Start the delivery of every pending event of the account (after a write)."""
        items = await asyncio.to_thread(self._pending, account_id)
        return await self._start(items)

    async def _start(self, items: list[FollowUp]) -> int:
        queue = activity.info().task_queue
        return await start_follow_ups(self._client, queue, items, self._delivery_retry)

    @activity.defn
    async def sweep(self) -> SweepReport:
        """Start whatever a lost start left waiting: deliveries of pending events,
        top-ups still in flight and pending mail (which activities, such as renewals
        and payments' receipts, write without starting). Safe to repeat: starts are
        keyed by workflow id.

        The starts are spread over most of the sweep's interval rather than made at
        once: a batch is everything written since the last sweep (a receipt's mail per
        purchase), and its workflows started together would queue for the Temporal
        server and the worker ahead of the customers' own (a quote waiting seconds
        behind a batch of mail). Spread, they arrive about as fast as the writes that
        made them. It heartbeats before each start (``SWEEP_STARTS``), so an attempt
        that ran out of time is cancelled there, not run beside its retry."""
        activity.heartbeat()
        events = await asyncio.to_thread(self._pending, None)
        top_ups = await asyncio.to_thread(self._in_flight)
        mail = await asyncio.to_thread(self._unsent)
        pace = _Pace(self._sweep_spread, len(events) + len(top_ups) + len(mail))
        return SweepReport(
            deliveries_started=await self._start_paced(events, pace),
            top_ups_started=await self._start_paced(top_ups, pace),
            mails_started=await self._start_paced(mail, pace),
        )

    async def _start_paced(self, items: list[FollowUp], pace: _Pace) -> int:
        started = 0
        for item in items:
            await pace.wait()
            activity.heartbeat()
            started += await self._start([item])
        return started

    def _pending(self, account_id: str | None) -> list[FollowUp]:
        with read_only(self._sessions) as session:
            rows = pending_events(session, SWEEP_BATCH, account_id)
            return [
                FollowUp("event", row.account_id, row.event_id, row.delivery_round) for row in rows
            ]

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

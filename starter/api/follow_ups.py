"""Start, once a write has committed, the workflows it asked for (webhook deliveries,
a claimed auto top-up). Best effort by design: a start lost here (Temporal down, the
process gone) is made by the event sweep (``SmsEventSweep``) instead."""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from application.context import Services
from outbound.follow_ups import start_follow_ups
from store.events import FollowUp, started_after_commit

log = logging.getLogger("sms_addon.follow_ups")


async def _start(services: Services, items: list[FollowUp]) -> None:
    try:
        client = await services.temporal.client()
        settings = services.settings
        await start_follow_ups(
            client, settings.sms_task_queue, items, settings.webhook_delivery_retry
        )
    except Exception:  # the sweep starts them instead
        log.warning("could not start %d follow-up(s); the sweep will", len(items), exc_info=True)


def after_commit(session: Session, background: BackgroundTasks, services: Services) -> None:
    """After the response: start what the committed transaction asked for."""
    start_after_response(started_after_commit(session), background, services)


def start_after_response(
    items: list[FollowUp], background: BackgroundTasks, services: Services
) -> None:
    """After the response: start ``items`` (their transaction has committed)."""
    if items:
        background.add_task(_start, services, items)

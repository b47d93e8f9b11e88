"""The webhooks' Celery tasks: thin, one service call each, idempotent."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from celery import shared_task
from django.conf import settings

from common.events import RELAY_TASK
from merchants.console.services import webhooks

logger = logging.getLogger(__name__)


@shared_task(name=RELAY_TASK, acks_late=True, reject_on_worker_lost=True)
def relay_webhook_events() -> int:
    """Turn the outbox's new events into deliveries (``webhooks.webhook_events_relay``):
    kicked after each commit that emits an event and run by beat every few seconds, so a
    lost kick only delays. Returns the number of events relayed."""
    return webhooks.webhook_events_relay(
        chunk=settings.WEBHOOKS_RELAY_CHUNK, budget=settings.WEBHOOKS_RELAY_BUDGET_SECONDS
    )


@shared_task(name="console.deliver_webhook", acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id: str) -> bool:
    """Send one delivery if it is due and not being sent; asked for after the relay's
    commit and after a resend."""
    return webhooks.webhook_delivery_attempt(delivery_id=uuid.UUID(delivery_id))


@shared_task(name="console.deliver_webhooks", acks_late=True, reject_on_worker_lost=True)
def deliver_webhooks() -> int:
    """Send the due deliveries (retries, and those whose ask was lost); run by beat."""
    return webhooks.webhook_deliveries_send(
        limit=settings.WEBHOOKS_SEND_LIMIT, budget=settings.WEBHOOKS_SEND_BUDGET_SECONDS
    )


def deliveries_kick(delivery_ids: Sequence[uuid.UUID]) -> None:
    """After a commit that made deliveries due: ask for each, never failing (a broker
    down leaves them to the periodic ``console.deliver_webhooks``). Without a broker
    (eager mode: the demo, most tests) each is sent here."""
    for delivery_id in delivery_ids:
        try:
            deliver_webhook.apply_async((str(delivery_id),), retry=False)
        except Exception:
            logger.warning("webhook delivery not asked for: broker unavailable", exc_info=True)
            return

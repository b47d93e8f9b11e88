"""Events a merchant's systems are told of, by signed webhook (Standard Webhooks).

Any layer that changes something a merchant must hear about calls :func:`event_emit`
inside the transaction of that change: the event row (``common.models.OutboxEvent``)
commits or rolls back with it, and a relay in ``merchants.console`` delivers it to the
merchant's endpoints after the commit. ``common`` sits below every app, so scoring can
emit ``dispute.opened`` for the merchant that furnished a record without knowing
merchants; merchants are named by id.

Each event's ``data`` is the public payload (API.md and the README list them): plain
JSON (ids as strings, money as integers in minor units with ``currency`` beside them,
times in ISO 8601), never the citizen's score or personal details beyond what the
merchant's consent already shows it. Events are thin: the ids and the state that
changed; the receiver reads the object through the API for more.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from common.models import OutboxEvent


class EventType(models.TextChoices):
    CONSENT_REVOKED = "consent.revoked", "A guest revoked a consent"
    BOOKING_CANCELLED = "booking.cancelled", "A booking was cancelled"
    CLAIM_ACCEPTED = "claim.accepted", "The guest accepted a claim"
    CLAIM_DISPUTED = "claim.disputed", "The guest disputed a claim"
    CLAIM_RESOLVED = "claim.resolved", "Staff resolved a disputed claim"
    CLAIM_PAID = "claim.paid", "A claim was paid"
    DISPUTE_OPENED = "dispute.opened", "A record you furnished is disputed: answer in 30 days"
    DISPUTE_ESCALATED = "dispute.escalated", "A dispute you verified was escalated to staff"
    BILL_PAID = "bill.paid", "A bill was paid"
    BILL_OVERDUE = "bill.overdue", "A bill is overdue"


# The task that relays the outbox (``merchants.console.tasks``); named here because
# ``common`` cannot import the console.
RELAY_TASK = "console.relay_webhook_events"


def event_emit(
    *,
    type: EventType,
    merchant_id: uuid.UUID,
    data: Mapping[str, Any],
    at: datetime | None = None,
) -> OutboxEvent:
    """Write the event in the caller's transaction; after the commit ask for the relay.

    Must run inside ``transaction.atomic()``: an event outside the change's transaction
    could outlive a rolled-back change or be lost after a committed one."""
    from common.models import OutboxEvent

    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("event_emit must run in the transaction of the change it reports")
    event = OutboxEvent.objects.create(
        type=EventType(type),
        merchant_id=merchant_id,
        data=dict(data),
        occurred_at=at or timezone.now(),
    )
    transaction.on_commit(_relay_kick, robust=True)
    return event


def _relay_kick() -> None:
    from common import kick

    kick.kick_by_name(RELAY_TASK)

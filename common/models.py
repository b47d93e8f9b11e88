"""Models of the plumbing every app shares: idempotency keys, dead letters of tasks, the
outbox of events merchants are told of.

``IdempotencyKey`` came from ``wallet`` and keeps its table (``wallet_idempotencykey``):
the move changed where the model lives, not a row of data.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from common.events import EventType


class IdempotencyKey(models.Model):
    """A claimed ``Idempotency-Key``: the request it was first used with and its answer.

    The row is inserted in the same transaction as the request's effect, so the key is
    claimed if and only if the effect happened. The unique constraint on (scope, key)
    makes a concurrent second request wait for the first and then replay its answer.
    """

    scope = models.CharField(max_length=100, help_text="Whose key: 'user:<id>' and so on.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64,
        help_text="HMAC-SHA256, keyed with the server's secret, of method, path and body.",
    )
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "wallet_idempotencykey"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class BeatHeartbeat(models.Model):
    """When beat's heartbeat task (``common.beat_heartbeat``, every 30 s) last ran: one
    row, id 1, overwritten each time. ``/readyz`` and ``/metrics`` read it to say when
    beat last ran; a stale one means beat, the broker or every worker of the default
    queue is down."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    beaten_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(id=1), name="beat_heartbeat_one_row"),
        ]

    def __str__(self) -> str:
        return f"Beat heartbeat at {self.beaten_at:%Y-%m-%d %H:%M:%S}"


class FailedTask(models.Model):
    """A Celery task that failed for good: its retries were spent, it raised an error
    that is not retried, or it ran out of time. The dead letter an operator sees in the
    admin and can send again; nothing fails silently."""

    task_name = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=64)
    args = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    kwargs = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    exception_type = models.CharField(max_length=200)
    exception_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(help_text="Runs, the first included.")
    failed_at = models.DateTimeField(db_index=True)
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resent_as = models.CharField(
        max_length=64, blank=True, help_text="The task id it was sent again as."
    )

    class Meta:
        ordering = ("-failed_at", "-id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(resolved=False, resolved_at__isnull=True)
                | Q(resolved=True, resolved_at__isnull=False),
                name="failed_task_resolved_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} [{self.task_id}] {self.exception_type}"


class ConfigGeneration(models.Model):
    """One row (``id`` 1): a counter that every write of what processes cache in memory
    bumps, in the write's own transaction (``common.services.config_generation_bump``):
    a merchant, a perk, the active scorecard. A process compares the value it read with
    the one its cached entries were loaded under (``common.config_cache``): equal, they
    are current; different, they are dropped and read again. A missing row reads as 0."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"configuration generation {self.value}"


class OutboxEvent(models.Model):
    """Something a merchant's systems are told of (by signed webhook): written by the
    service that made the change, in its own transaction (``common.events.event_emit``),
    so that it exists if and only if the change committed. The console's relay
    (``merchants.console``) turns each row into a delivery per subscribed endpoint and
    sets ``relayed_at``; rows are kept for the delivery log and resends.

    The merchant is named by id only (``common`` sits below ``merchants``); ``id`` is
    the message id the receiver deduplicates on (``webhook-id``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64, choices=EventType.choices)
    merchant_id = models.UUIDField(help_text="The merchant told of it.")
    data = models.JSONField(encoder=DjangoJSONEncoder, help_text="The payload's `data`.")
    occurred_at = models.DateTimeField()
    relayed_at = models.DateTimeField(
        null=True, blank=True, help_text="When its deliveries were made; empty: still to relay."
    )

    class Meta:
        ordering = ("-occurred_at",)
        indexes: ClassVar = [
            models.Index(fields=("merchant_id", "-occurred_at"), name="outbox_event_merchant"),
            models.Index(
                fields=("occurred_at",),
                condition=Q(relayed_at__isnull=True),
                name="outbox_event_to_relay",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} for merchant {self.merchant_id} at {self.occurred_at:%Y-%m-%d %H:%M}"

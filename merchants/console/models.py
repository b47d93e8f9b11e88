"""Webhook endpoints a merchant registers, and the deliveries of events to them.

Invariants:

- An event (``common.models.OutboxEvent``) is delivered at most once per endpoint as one
  ``WebhookDelivery`` (unique per endpoint and event); retries and resends are further
  ``WebhookAttempt`` rows of that delivery, all with the event's id as ``webhook-id``,
  so a receiver that deduplicates on it acts on each event once.
- The signing secret (``whsec_`` + base64) is shown once, when the endpoint is made; it
  is kept only because every delivery is signed with it, and never shown or logged again.
- Only ``merchants.console.services`` writes these rows.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from merchants.models import Merchant


class EndpointDisabledReason(models.TextChoices):
    GONE = "gone", "The endpoint answered 410 Gone"
    FAILING = "failing", "Deliveries failed for five days"


class WebhookEndpoint(models.Model):
    """Where a merchant's systems want to hear of events, and which ones."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="The event types it receives.")
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(
        max_length=100, help_text="The signing secret (whsec_…); shown once when made."
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who made it in the console; empty when made with an API key.",
    )
    created_with_key = models.ForeignKey(
        "merchants.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    failing_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The first failed attempt since the last success; five days of it "
        "disables the endpoint.",
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(
        max_length=16, choices=EndpointDisabledReason.choices, blank=True, default=""
    )
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted by the merchant: kept for its delivery log."
    )

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(disabled_at__isnull=True, disabled_reason="")
                | (Q(disabled_at__isnull=False) & ~Q(disabled_reason="")),
                name="webhook_endpoint_disabled_why",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("merchant", "-created_at"), name="webhook_endpoint_merchant"),
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.merchant})"

    @property
    def is_live(self) -> bool:
        """Receives deliveries: neither deleted nor disabled."""
        return self.deleted_at is None and self.disabled_at is None


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending (waiting for its next attempt)"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed (retries spent, or the endpoint disabled)"


class WebhookDelivery(models.Model):
    """One event to one endpoint: attempted until a 2xx answer, with exponential backoff
    and jitter, for up to three days."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    event = models.ForeignKey(
        "common.OutboxEvent", on_delete=models.PROTECT, related_name="deliveries"
    )
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When it is tried next; empty once it ended."
    )
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker's lease on the next attempt."
    )
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    resent_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last sent again on request."
    )
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The member who asked for the resend; empty when asked with an API key.",
    )

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "webhook deliveries"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("endpoint", "event"), name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=False)
                | (~Q(status=DeliveryStatus.PENDING) & Q(next_attempt_at__isnull=True)),
                name="webhook_delivery_next_when_pending",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=("next_attempt_at",),
                condition=Q(status="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=("endpoint", "-created_at"), name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.get_status_display()})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, as the merchant sees it in its log."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: no answer (refused, timed out, blocked)."
    )
    duration_ms = models.PositiveIntegerField()
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(
        max_length=200, blank=True, help_text="Why there was no usable answer, if so."
    )

    class Meta:
        ordering = ("-attempted_at", "-id")
        indexes: ClassVar = [
            models.Index(fields=("delivery", "-attempted_at"), name="webhook_attempt_delivery"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"


class ConsoleAction(models.Model):
    """What a member did in the console, written in the transaction of the change it
    records (``merchants.console.services``): the merchant's own audit trail, shown to
    its owners and managers."""

    id = models.BigAutoField(primary_key=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verb = models.CharField(max_length=64, help_text="e.g. booking.create, claim.file.")
    target_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ("-at", "-id")
        indexes: ClassVar = [
            models.Index(fields=("merchant", "-at"), name="console_action_merchant"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} by {self.actor_id} at {self.at:%Y-%m-%d %H:%M}"

"""Reads of a merchant's webhook endpoints and deliveries (the API and the console)."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch, QuerySet

from merchants.console.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from merchants.models import Merchant

# How many of a delivery's latest attempts a list shows with it.
RECENT_ATTEMPTS = 5


def webhook_endpoints_of(*, merchant: Merchant) -> QuerySet[WebhookEndpoint]:
    """The merchant's endpoints not deleted, newest first (disabled ones included)."""
    return WebhookEndpoint.objects.filter(merchant=merchant, deleted_at__isnull=True).order_by(
        "-created_at", "pk"
    )


def webhook_endpoint_of(*, merchant: Merchant, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    """One of the merchant's endpoints not deleted; None for another merchant's."""
    return webhook_endpoints_of(merchant=merchant).filter(pk=endpoint_id).first()


def webhook_endpoints_disabled_of(*, merchant: Merchant) -> QuerySet[WebhookEndpoint]:
    """The merchant's disabled endpoints (the console's home warns of them)."""
    return webhook_endpoints_of(merchant=merchant).filter(disabled_at__isnull=False)


def webhook_deliveries_of(
    *,
    merchant: Merchant,
    endpoint_id: uuid.UUID | None = None,
    type: str | None = None,
    status: str | None = None,
) -> QuerySet[WebhookDelivery]:
    """The merchant's deliveries, newest first (of one relay, the latest event first),
    each with its endpoint, its event and its latest attempts (``recent_attempts``,
    newest first): a fixed number of queries."""
    deliveries = WebhookDelivery.objects.filter(endpoint__merchant=merchant)
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    if type:
        deliveries = deliveries.filter(event__type=type)
    if status:
        deliveries = deliveries.filter(status=status)
    return (
        deliveries.select_related("endpoint", "event")
        .prefetch_related(
            Prefetch(
                "attempt_log",
                queryset=WebhookAttempt.objects.order_by("-attempted_at", "-id")[:RECENT_ATTEMPTS],
                to_attr="recent_attempts",
            )
        )
        .order_by("-created_at", "-event__occurred_at", "-pk")
    )


def webhook_delivery_of(*, merchant: Merchant, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """One of the merchant's deliveries (with its recent attempts); None otherwise."""
    return webhook_deliveries_of(merchant=merchant).filter(pk=delivery_id).first()

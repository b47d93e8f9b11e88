"""Reads of the console's integration pages: a merchant's keys, webhook endpoints and
their deliveries (with attempts), its members' actions. Another merchant's object is
never returned (``NotFound``)."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch, QuerySet

from merchants.console.models import ConsoleAction, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from merchants.errors import NotFound
from merchants.models import ApiKey, Merchant

DELIVERIES_SHOWN = 50
ATTEMPTS_SHOWN = 5
ACTIONS_SHOWN = 100


def keys_of(*, merchant: Merchant) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(merchant=merchant)
        .select_related("created_by")
        .order_by("revoked_at", "-created_at")
    )


def endpoints_of(*, merchant: Merchant) -> QuerySet[WebhookEndpoint]:
    """The merchant's endpoints not deleted, newest first."""
    return WebhookEndpoint.objects.filter(merchant=merchant, deleted_at__isnull=True).order_by(
        "-created_at"
    )


def endpoints_disabled_of(*, merchant: Merchant) -> QuerySet[WebhookEndpoint]:
    return endpoints_of(merchant=merchant).filter(disabled_at__isnull=False)


def endpoint_of(*, merchant: Merchant, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = endpoints_of(merchant=merchant).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound
    return endpoint


def deliveries_of_endpoint(*, endpoint: WebhookEndpoint, status: str = "") -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, each with its latest attempts."""
    deliveries = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-attempted_at"))
        )
        .order_by("-created_at")
    )
    if status:
        deliveries = deliveries.filter(status=status)
    shown = list(deliveries[:DELIVERIES_SHOWN])
    for delivery in shown:
        delivery.recent_attempts = list(delivery.attempt_log.all()[:ATTEMPTS_SHOWN])  # type: ignore[attr-defined]
    return shown


def actions_of(*, merchant: Merchant) -> QuerySet[ConsoleAction]:
    return ConsoleAction.objects.filter(merchant_id=merchant.pk).select_related("actor")[
        :ACTIONS_SHOWN
    ]

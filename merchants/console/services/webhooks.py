"""STAND-IN until the webhooks work is merged (take that branch's file whole): the four
services the console pages call, with the agreed signatures, doing the least."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from common.domain import Conflict, FieldError, InvalidRequest
from common.events import EventType
from merchants.console.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from merchants.errors import NotFound
from merchants.models import ApiKey, Merchant
from wallet.models import User


@transaction.atomic
def webhook_endpoint_create(
    *,
    merchant: Merchant,
    url: str,
    events: Sequence[str],
    description: str = "",
    by: User | None = None,
    api_key: ApiKey | None = None,
) -> tuple[WebhookEndpoint, str]:
    if not events or any(event not in EventType.values for event in events):
        raise InvalidRequest(errors=[FieldError("events", "Choose known event types.")])
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    endpoint = WebhookEndpoint.objects.create(
        merchant=merchant,
        url=url,
        events=list(events),
        description=description,
        secret=secret,
        created_at=timezone.now(),
        created_by=by,
        created_with_key=api_key,
    )
    return endpoint, secret


def _endpoint(merchant: Merchant, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .filter(merchant=merchant, pk=endpoint_id, deleted_at__isnull=True)
        .first()
    )
    if endpoint is None:
        raise NotFound
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(
    *, merchant: Merchant, endpoint_id: uuid.UUID, by: User | None = None
) -> None:
    endpoint = _endpoint(merchant, endpoint_id)
    endpoint.deleted_at = timezone.now()
    endpoint.save(update_fields=["deleted_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None
    )


@transaction.atomic
def webhook_endpoint_enable(*, merchant: Merchant, endpoint_id: uuid.UUID, by: User) -> None:
    endpoint = _endpoint(merchant, endpoint_id)
    endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
    endpoint.save(update_fields=["disabled_at", "disabled_reason", "failing_since"])


@transaction.atomic
def webhook_delivery_resend(
    *, merchant: Merchant, delivery_id: uuid.UUID, by: User | None = None
) -> None:
    delivery = (
        WebhookDelivery.objects.select_for_update()
        .select_related("endpoint")
        .filter(endpoint__merchant=merchant, pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise NotFound
    if not delivery.endpoint.is_live:
        raise Conflict("Its endpoint is deleted or disabled.")
    now = timezone.now()
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now
    delivery.resent_at, delivery.resent_by = now, by
    delivery.save(update_fields=["status", "next_attempt_at", "resent_at", "resent_by"])

"""STAND-IN until the webhooks work is merged (take that branch's file whole): the four
services the console pages call, with that branch's signatures and audit verbs, doing
the least (no SSRF check, no delivery)."""

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
from merchants.console.services.actions import action_record
from merchants.errors import NotFound
from merchants.models import ApiKey, Merchant, MerchantMember


@transaction.atomic
def webhook_endpoint_create(
    *,
    merchant: Merchant,
    url: str,
    events: Sequence[str],
    description: str = "",
    by: MerchantMember | None = None,
    api_key: ApiKey | None = None,
) -> tuple[WebhookEndpoint, str]:
    if not events or any(event not in EventType.values for event in events):
        raise InvalidRequest(errors=[FieldError("events", "Choose known event types.")])
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    chosen = [event for event in EventType.values if event in events]
    endpoint = WebhookEndpoint.objects.create(
        merchant=merchant,
        url=url,
        events=chosen,
        description=description,
        secret=secret,
        created_at=timezone.now(),
        created_by=by.user if by is not None else None,
        created_with_key=api_key,
    )
    if by is not None:
        action_record(member=by, verb="webhook_endpoint.create", target_id=endpoint.pk)
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
    *, merchant: Merchant, endpoint_id: uuid.UUID, by: MerchantMember | None = None
) -> WebhookEndpoint:
    endpoint = _endpoint(merchant, endpoint_id)
    endpoint.deleted_at = timezone.now()
    endpoint.save(update_fields=["deleted_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None
    )
    if by is not None:
        action_record(member=by, verb="webhook_endpoint.delete", target_id=endpoint.pk)
    return endpoint


@transaction.atomic
def webhook_endpoint_enable(
    *, merchant: Merchant, endpoint_id: uuid.UUID, by: MerchantMember | None
) -> WebhookEndpoint:
    endpoint = _endpoint(merchant, endpoint_id)
    if endpoint.disabled_at is None:
        return endpoint
    endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
    endpoint.save(update_fields=["disabled_at", "disabled_reason", "failing_since"])
    if by is not None:
        action_record(member=by, verb="webhook_endpoint.enable", target_id=endpoint.pk)
    return endpoint


@transaction.atomic
def webhook_delivery_resend(
    *, merchant: Merchant, delivery_id: uuid.UUID, by: MerchantMember | None = None
) -> WebhookDelivery:
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
    delivery.resent_at, delivery.resent_by = now, by.user if by is not None else None
    delivery.save(update_fields=["status", "next_attempt_at", "resent_at", "resent_by"])
    if by is not None:
        action_record(member=by, verb="webhook_delivery.resend", target_id=delivery.pk)
    return delivery

"""The console's integration pages' writes: API keys (``merchants.services``, with the
key's line in the merchant's audit trail in the same transaction) and webhook endpoints
(``merchants.console.services.webhooks``, which records its own)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from merchants import services as merchant_services
from merchants.console.models import WebhookEndpoint
from merchants.console.services import webhooks
from merchants.console.services.actions import action_record
from merchants.errors import NotFound
from merchants.models import ApiKey, MerchantMember


@transaction.atomic
def console_key_create(
    *,
    member: MerchantMember,
    name: str,
    scopes: Sequence[str],
    expires_at: datetime | None,
    allowed_networks: Sequence[str],
) -> tuple[ApiKey, str]:
    """A new key of the member's merchant; the raw key is returned once."""
    api_key, raw = merchant_services.api_key_create(
        merchant=member.merchant,
        name=name,
        scopes=list(scopes),
        expires_at=expires_at,
        allowed_networks=list(allowed_networks),
        by=member.user,
    )
    action_record(
        member=member,
        verb="key.create",
        target_id=api_key.prefix,
        detail={"name": api_key.name, "scopes": list(api_key.scopes)},
    )
    return api_key, raw


@transaction.atomic
def console_key_revoke(*, member: MerchantMember, key_id: int) -> ApiKey:
    """Revoke a key of the member's merchant (another merchant's is not found)."""
    api_key = ApiKey.objects.filter(merchant=member.merchant, pk=key_id).first()
    if api_key is None:
        raise NotFound
    already = api_key.revoked_at is not None
    merchant_services.api_key_revoke(api_key=api_key, by=member.user)
    if not already:
        action_record(member=member, verb="key.revoke", target_id=api_key.prefix)
    return api_key


# Webhooks: the webhooks services take the member and record the action themselves.


def console_endpoint_create(
    *, member: MerchantMember, url: str, events: Sequence[str], description: str
) -> tuple[WebhookEndpoint, str]:
    """A new webhook endpoint; its signing secret is returned once."""
    return webhooks.webhook_endpoint_create(
        merchant=member.merchant, url=url, events=list(events), description=description, by=member
    )


def console_endpoint_delete(*, member: MerchantMember, endpoint_id: uuid.UUID) -> None:
    webhooks.webhook_endpoint_delete(merchant=member.merchant, endpoint_id=endpoint_id, by=member)


def console_endpoint_enable(*, member: MerchantMember, endpoint_id: uuid.UUID) -> None:
    webhooks.webhook_endpoint_enable(merchant=member.merchant, endpoint_id=endpoint_id, by=member)


def console_delivery_resend(*, member: MerchantMember, delivery_id: uuid.UUID) -> None:
    webhooks.webhook_delivery_resend(merchant=member.merchant, delivery_id=delivery_id, by=member)

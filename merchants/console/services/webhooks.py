"""Webhooks: endpoints a merchant registers, the relay from the events outbox, and the
signed deliveries (Standard Webhooks) with their retries.

How a delivery travels:

1. A service commits a change with its event (``common.events.event_emit``) and kicks
   the relay. :func:`webhook_events_relay` turns each event not relayed yet into one
   ``WebhookDelivery`` per live endpoint of its merchant subscribed to its type and sets
   the event's ``relayed_at``, all in one transaction, events claimed skip-locked so
   relays run side by side. Beat runs it every few seconds too: a lost kick only delays.
2. Each delivery is sent by :func:`webhook_delivery_attempt` (asked for after the relay's
   commit) or by :func:`webhook_deliveries_send` (beat, for retries and lost asks), in
   three steps, so no database transaction is open during the HTTP call: *claim* (a
   short transaction sets a lease, ``claimed_until``; a delivery under lease is skipped
   by everyone else), *send* (no transaction; SSRF-checked, ``merchants.console.transport``),
   *record* (a short transaction logs the attempt and decides what is next, only if the
   lease is still this sender's: a worker that died mid-call loses its lease, and the
   delivery is tried again when it expires).
3. A 2xx answer ends it ``succeeded``. 410 Gone fails it and disables the endpoint at
   once. Anything else (another status, a timeout, a refused address) is retried with
   exponential backoff and jitter (:func:`retry_delay`) for ``WEBHOOKS_RETRY_FOR`` (three
   days) from its creation or its last resend, then ends ``failed``. An endpoint failing
   without a success for ``WEBHOOKS_DISABLE_AFTER`` (five days) is disabled. Disabling or
   deleting an endpoint fails its pending deliveries; the merchant may enable it again
   and resend them.

Every request of a delivery carries the same ``webhook-id`` (``msg_`` + the event's id),
so a receiver that deduplicates on it acts on each event once, however often it was sent.
Locks are taken endpoint first, then its deliveries, everywhere.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks import Webhook

from common.domain import FieldError
from common.events import EventType
from common.models import OutboxEvent
from merchants.console import transport
from merchants.console.errors import (
    WebhookEndpointNotLive,
    WebhookEventsInvalid,
    WebhookUrlNotAllowed,
)
from merchants.console.models import (
    DeliveryStatus,
    EndpointDisabledReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from merchants.console.services.actions import action_record
from merchants.errors import NotFound
from merchants.models import ApiKey, Merchant, MerchantMember

logger = logging.getLogger(__name__)

SECRET_BYTES = 32
USER_AGENT = "OpenSesame-Webhooks/1"
_jitter = random.SystemRandom()

# --- Endpoints -----------------------------------------------------------------------------


def _url_check(url: str) -> None:
    try:
        transport.target_resolve(url, allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK)
    except transport.TargetRefused as refused:
        message = f"Not allowed: {refused}."
        raise WebhookUrlNotAllowed(
            message, errors=[FieldError("url", message, WebhookUrlNotAllowed.code)]
        ) from None


def _events_clean(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    unknown = [event for event in chosen if event not in EventType.values]
    if not chosen or unknown:
        message = (
            f"Unknown event types: {', '.join(unknown)}." if unknown else "Choose at least one."
        )
        raise WebhookEventsInvalid(
            message, errors=[FieldError("events", message, WebhookEventsInvalid.code)]
        )
    return [event for event in EventType.values if event in chosen]


def webhook_secret_make() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def webhook_endpoint_create(
    *,
    merchant: Merchant,
    url: str,
    events: Sequence[str],
    description: str = "",
    by: MerchantMember | None = None,
    api_key: ApiKey | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register ``url`` for ``events``; returns the endpoint and its signing secret, which
    the caller shows once. The URL must pass the SSRF check now (and again at each
    delivery, as its host's addresses may change)."""
    _url_check(url)
    chosen = _events_clean(events)
    secret = webhook_secret_make()
    with transaction.atomic():
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
            action_record(
                member=by,
                verb="webhook_endpoint.create",
                target_id=endpoint.pk,
                detail={"url": url, "events": chosen},
            )
    return endpoint, secret


def _endpoint_locked(*, merchant: Merchant, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .filter(pk=endpoint_id, merchant=merchant, deleted_at__isnull=True)
        .first()
    )
    if endpoint is None:
        raise NotFound()
    return endpoint


def _pending_fail(endpoint: WebhookEndpoint) -> int:
    """End the endpoint's pending deliveries ``failed`` (it was deleted or disabled)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, claimed_until=None
    )


def webhook_endpoint_delete(
    *, merchant: Merchant, endpoint_id: uuid.UUID, by: MerchantMember | None = None
) -> WebhookEndpoint:
    """Delete the endpoint (kept, with ``deleted_at``, for its delivery log); its pending
    deliveries end ``failed``. Another merchant's or a deleted endpoint: ``NotFound``."""
    with transaction.atomic():
        endpoint = _endpoint_locked(merchant=merchant, endpoint_id=endpoint_id)
        endpoint.deleted_at = timezone.now()
        endpoint.save(update_fields=["deleted_at"])
        _pending_fail(endpoint)
        if by is not None:
            action_record(
                member=by,
                verb="webhook_endpoint.delete",
                target_id=endpoint.pk,
                detail={"url": endpoint.url},
            )
    return endpoint


def webhook_endpoint_enable(
    *, merchant: Merchant, endpoint_id: uuid.UUID, by: MerchantMember | None
) -> WebhookEndpoint:
    """Enable an endpoint that was disabled (410, or five days of failures): it receives
    new events again, with a fresh failure clock. Its failed deliveries stay failed until
    resent. Enabling a live endpoint changes nothing."""
    with transaction.atomic():
        endpoint = _endpoint_locked(merchant=merchant, endpoint_id=endpoint_id)
        if endpoint.disabled_at is None:
            return endpoint
        reason = endpoint.disabled_reason
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
        endpoint.save(update_fields=["disabled_at", "disabled_reason", "failing_since"])
        if by is not None:
            action_record(
                member=by,
                verb="webhook_endpoint.enable",
                target_id=endpoint.pk,
                detail={"url": endpoint.url, "was_disabled": reason},
            )
    return endpoint


def _endpoint_disable(endpoint: WebhookEndpoint, *, reason: str, at: datetime) -> None:
    endpoint.disabled_at = at
    endpoint.disabled_reason = reason
    endpoint.save(update_fields=["disabled_at", "disabled_reason"])
    failed = _pending_fail(endpoint)
    logger.warning(
        "webhook endpoint disabled",
        extra={"endpoint_id": str(endpoint.pk), "reason": reason, "deliveries_failed": failed},
    )


# --- Resend --------------------------------------------------------------------------------


def webhook_delivery_resend(
    *, merchant: Merchant, delivery_id: uuid.UUID, by: MerchantMember | None = None
) -> WebhookDelivery:
    """Send a delivery again, now: pending, with a new retry window from now; the same
    ``webhook-id``. Its endpoint deleted or disabled: ``WebhookEndpointNotLive``."""
    delivery_row = (
        WebhookDelivery.objects.filter(pk=delivery_id, endpoint__merchant=merchant)
        .only("pk", "endpoint_id")
        .first()
    )
    if delivery_row is None:
        raise NotFound()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery_row.endpoint_id)
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if not endpoint.is_live:
            raise WebhookEndpointNotLive()
        now = timezone.now()
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now
        delivery.resent_at = now
        delivery.resent_by = by.user if by is not None else None
        delivery.save(update_fields=["status", "next_attempt_at", "resent_at", "resent_by"])
        if by is not None:
            action_record(
                member=by,
                verb="webhook_delivery.resend",
                target_id=delivery.pk,
                detail={"event_id": str(delivery.event_id), "endpoint_id": str(endpoint.pk)},
            )
        transaction.on_commit(lambda: _deliveries_kick([delivery.pk]), robust=True)
    return delivery


# --- The relay -----------------------------------------------------------------------------


def webhook_events_relay(*, chunk: int = 100, budget: float = 20.0) -> int:
    """Fan each event not relayed yet out to the live endpoints of its merchant that
    subscribe to its type (one delivery each) and set its ``relayed_at``, in one
    transaction per chunk; events are claimed skip-locked, oldest first. After each
    commit the new deliveries are asked for. Returns the number of events relayed."""
    relayed = 0
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        with transaction.atomic():
            events = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(relayed_at__isnull=True)
                .order_by("occurred_at")[:chunk]
            )
            if not events:
                break
            now = timezone.now()
            endpoints: dict[uuid.UUID, list[WebhookEndpoint]] = defaultdict(list)
            for endpoint in (
                WebhookEndpoint.objects.select_for_update()
                .filter(
                    merchant_id__in={event.merchant_id for event in events},
                    deleted_at__isnull=True,
                    disabled_at__isnull=True,
                )
                .order_by("pk")
            ):
                endpoints[endpoint.merchant_id].append(endpoint)
            deliveries = WebhookDelivery.objects.bulk_create(
                WebhookDelivery(endpoint=endpoint, event=event, created_at=now, next_attempt_at=now)
                for event in events
                for endpoint in endpoints[event.merchant_id]
                if event.type in endpoint.events
            )
            OutboxEvent.objects.filter(pk__in=[event.pk for event in events]).update(relayed_at=now)
            ids = [delivery.pk for delivery in deliveries]
            if ids:
                transaction.on_commit(lambda ids=ids: _deliveries_kick(ids), robust=True)  # type: ignore[misc]
        relayed += len(events)
    return relayed


def _deliveries_kick(delivery_ids: Sequence[uuid.UUID]) -> None:
    from merchants.console import tasks  # the tasks module imports these services

    tasks.deliveries_kick(delivery_ids)


# --- Sending -------------------------------------------------------------------------------


def retry_delay(attempt: int, jitter: float) -> timedelta:
    """The wait after the ``attempt``-th failed attempt (1, 2, ...) of a delivery: the
    base doubled each time up to the maximum, then spread by ``jitter`` in [0, 1) over
    ±25 %, so that many deliveries failing together do not come back together."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    seconds = min(base * 2 ** min(attempt - 1, 32), settings.WEBHOOKS_RETRY_MAX_SECONDS)
    return timedelta(seconds=seconds * (0.75 + 0.5 * jitter))


def webhook_message_id(event: OutboxEvent) -> str:
    """The ``webhook-id`` of every request of ``event``: the receiver deduplicates on it."""
    return f"msg_{event.pk.hex}"


def webhook_body(event: OutboxEvent) -> bytes:
    """The JSON body of ``event``: ``{"type", "timestamp", "data"}``."""
    return json.dumps(
        {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": event.data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    ).encode()


@dataclass(frozen=True, slots=True)
class _Claim:
    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    lease: datetime
    url: str
    secret: str
    message_id: str
    body: bytes


def _claim(*, delivery_id: uuid.UUID | None) -> _Claim | None:
    """Lease one due delivery (``delivery_id``'s, or the most overdue) for a send."""
    now = timezone.now()
    with transaction.atomic():
        due = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
                endpoint__deleted_at__isnull=True,
                endpoint__disabled_at__isnull=True,
            )
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        )
        if delivery_id is not None:
            due = due.filter(pk=delivery_id)
        delivery = due.order_by("next_attempt_at").first()
        if delivery is None:
            return None
        delivery.claimed_until = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
        delivery.save(update_fields=["claimed_until"])
    return _Claim(
        delivery_id=delivery.pk,
        endpoint_id=delivery.endpoint_id,
        lease=delivery.claimed_until,
        url=delivery.endpoint.url,
        secret=delivery.endpoint.secret,
        message_id=webhook_message_id(delivery.event),
        body=webhook_body(delivery.event),
    )


def _send(claim: _Claim) -> transport.Answer:
    """The HTTP request, outside any transaction: checked again (the host's addresses may
    have changed since registration), signed at the moment of sending."""
    try:
        target = transport.target_resolve(
            claim.url, allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK
        )
    except transport.TargetRefused as refused:
        return transport.Answer(None, "", f"not sent: {refused}"[:200], 0)
    sent_at = timezone.now()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": claim.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(claim.secret).sign(claim.message_id, sent_at, claim.body),
    }
    return transport.post(
        target, headers=headers, body=claim.body, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS
    )


def _record(claim: _Claim, answer: transport.Answer, *, attempted_at: datetime) -> None:
    """Log the attempt and decide what follows, if the lease is still this sender's."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=claim.endpoint_id)
        delivery = WebhookDelivery.objects.select_for_update().get(pk=claim.delivery_id)
        now = timezone.now()
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=attempted_at,
            status_code=answer.status_code,
            duration_ms=answer.duration_ms,
            response_excerpt=answer.excerpt[: transport.EXCERPT_LENGTH],
            error=answer.error[:200],
        )
        delivery.attempts += 1
        delivery.last_attempt_at = attempted_at
        delivery.last_status_code = answer.status_code
        fields = ["attempts", "last_attempt_at", "last_status_code"]
        ours = delivery.status == DeliveryStatus.PENDING and delivery.claimed_until == claim.lease
        if not ours:  # deleted, disabled, or a lost lease another sender took over
            delivery.save(update_fields=fields)
            return
        delivery.claimed_until = None
        fields += ["claimed_until", "status", "next_attempt_at"]
        code = answer.status_code
        if code is not None and 200 <= code < 300:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.next_attempt_at = None
            delivery.succeeded_at = now
            delivery.save(update_fields=[*fields, "succeeded_at"])
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since"])
            return
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        if code == 410:
            delivery.save(update_fields=fields)
            _endpoint_disable(endpoint, reason=EndpointDisabledReason.GONE, at=now)
            return
        if endpoint.failing_since is None:
            endpoint.failing_since = attempted_at
            endpoint.save(update_fields=["failing_since"])
        if now - endpoint.failing_since >= settings.WEBHOOKS_DISABLE_AFTER:
            delivery.save(update_fields=fields)
            _endpoint_disable(endpoint, reason=EndpointDisabledReason.FAILING, at=now)
            return
        window_start = delivery.resent_at or delivery.created_at
        failures = WebhookAttempt.objects.filter(
            delivery=delivery, attempted_at__gte=window_start
        ).count()
        next_attempt_at = now + retry_delay(failures, _jitter.random())
        if next_attempt_at <= window_start + settings.WEBHOOKS_RETRY_FOR:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = next_attempt_at
        delivery.save(update_fields=fields)


def _attempt(claim: _Claim) -> None:
    attempted_at = timezone.now()
    answer = _send(claim)
    _record(claim, answer, attempted_at=attempted_at)


def webhook_delivery_attempt(*, delivery_id: uuid.UUID) -> bool:
    """Send the delivery now if it is due and no one else is sending it; whether it was
    sent (a 2xx or not)."""
    claim = _claim(delivery_id=delivery_id)
    if claim is None:
        return False
    _attempt(claim)
    return True


def webhook_deliveries_send(*, limit: int = 100, budget: float = 50.0) -> int:
    """Send due deliveries, most overdue first, one at a time, until none is due,
    ``limit`` were sent or ``budget`` seconds have passed; beat runs it for the retries
    and for the deliveries whose ask was lost. Returns how many were sent."""
    sent = 0
    deadline = time.monotonic() + budget
    while sent < limit and time.monotonic() < deadline:
        claim = _claim(delivery_id=None)
        if claim is None:
            break
        _attempt(claim)
        sent += 1
    return sent

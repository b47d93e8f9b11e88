"""Webhooks through a real Celery worker on a real broker: an event whose after-commit
kick was lost (the process died between the commit and the kick) is relayed by the
periodic relay, as beat sends it, and delivered, signed, to a real receiver; an event
whose kick runs is relayed and delivered with no periodic task at all.

The worker runs in a thread of this process with its own database connection, on queues
of its own (``tests.brokers``). Nothing here depends on the date: the clock runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from common.events import EventType, event_emit
from common.models import OutboxEvent
from config.celery_app import app
from merchants.console import tasks
from merchants.console.models import DeliveryStatus, WebhookDelivery
from tests.brokers import Broker, app_on, delete_queues, unique_suffix
from tests.merchants.console.webhooks.conftest import endpoint_make

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DATA = {"object": "booking", "id": "b1", "reference": "R-1", "cancel_reason": "merchant"}


@pytest.fixture
def real_worker() -> Iterator[Broker]:
    broker = Broker(url=str(settings.CELERY_BROKER_URL), suffix=unique_suffix())
    try:
        with (
            app_on(broker),
            start_worker(
                app,
                pool="solo",
                perform_ping_check=False,
                queues=broker.queues,
                shutdown_timeout=30,
            ),
        ):
            yield broker
    finally:
        delete_queues(broker)
        connections.close_all()


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_an_event_whose_kick_was_lost_is_relayed_by_the_periodic_relay(
    real_worker, hotel, receiver
):
    # Given an endpoint, and an event committed whose kick never ran (written as
    # event_emit writes it, without the after-commit kick)
    _, secret = endpoint_make(hotel, receiver.url())
    with transaction.atomic():
        event = OutboxEvent.objects.create(
            type=EventType.BOOKING_CANCELLED,
            merchant_id=hotel.pk,
            data=DATA,
            occurred_at=timezone.now(),
        )
    # Then nothing happens by itself
    time.sleep(1.0)
    assert receiver.requests == []
    event.refresh_from_db()
    assert event.relayed_at is None
    # When beat sends the periodic relay through the broker
    tasks.relay_webhook_events.apply_async(expires=10)
    # Then the worker relays it and delivers it, signed, once
    assert wait_for(lambda: len(receiver.requests) == 1)
    assert wait_for(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 1
    )
    [request] = receiver.requests
    assert Webhook(secret).verify(request.body, request.headers)["data"] == DATA
    assert request.headers["webhook-id"] == f"msg_{event.pk.hex}"
    event.refresh_from_db()
    assert event.relayed_at is not None
    # And the next periodic relay finds nothing more to do
    tasks.relay_webhook_events.apply_async(expires=10)
    tasks.deliver_webhooks.apply_async(expires=10)
    time.sleep(1.0)
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.count() == 1


def test_an_event_committed_is_kicked_relayed_and_delivered_by_the_worker(
    real_worker, hotel, receiver
):
    # Given an endpoint
    _, secret = endpoint_make(hotel, receiver.url())
    # When a service commits an event (its kick goes through the broker)
    with transaction.atomic():
        event = event_emit(type=EventType.BOOKING_CANCELLED, merchant_id=hotel.pk, data=DATA)
    # Then the worker relays and delivers it, with no periodic task
    assert wait_for(lambda: len(receiver.requests) == 1)
    [request] = receiver.requests
    assert Webhook(secret).verify(request.body, request.headers)["type"] == "booking.cancelled"
    assert request.headers["webhook-id"] == f"msg_{event.pk.hex}"
    assert wait_for(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 1
    )

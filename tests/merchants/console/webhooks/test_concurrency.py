"""On PostgreSQL, relays and senders run side by side without doing anything twice, and
no sender holds a database transaction (or a row lock) while it waits on the HTTP call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.utils import OperationalError

from merchants.console.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from merchants.console.services import webhooks
from tests.concurrency import run_together
from tests.merchants.console.webhooks.conftest import Received, Reply, emit_unkicked, endpoint_make

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_no_transaction_or_lock_is_held_during_the_http_call(hotel, receiver, clock):
    # Given a delivery due for a retry (its first attempt, sent after the relay's
    # commit, failed)
    endpoint, _ = endpoint_make(hotel, receiver.url())
    receiver.answer(Reply(status=500))
    emit_unkicked(hotel)
    webhooks.webhook_events_relay()
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1
    clock.move(timedelta(hours=1))
    seen: list[str] = []

    def while_the_receiver_holds_the_request(request: Received) -> None:
        # From the receiver's thread (its own connection), lock both rows without waiting
        try:
            with transaction.atomic():
                WebhookEndpoint.objects.select_for_update(nowait=True).get(pk=endpoint.pk)
                row = WebhookDelivery.objects.select_for_update(nowait=True).get(pk=delivery.pk)
                seen.append(f"unlocked, leased: {row.claimed_until is not None}")
        except OperationalError:
            seen.append("locked")
        finally:
            connection.close()

    receiver.on_request = while_the_receiver_holds_the_request
    # When it is sent
    assert webhooks.webhook_deliveries_send() == 1
    # Then during the call the rows were free (only the lease said it was taken)
    assert seen == ["unlocked, leased: True"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claimed_until) == (DeliveryStatus.SUCCEEDED, None)


def test_relays_side_by_side_make_each_delivery_once(hotel, other_hotel, receiver, clock):
    # Given two endpoints and 40 events to relay
    endpoint_make(hotel, receiver.url("/a"))
    endpoint_make(other_hotel, receiver.url("/b"))
    for index in range(40):
        emit_unkicked(hotel if index % 2 else other_hotel)
    # When four relays run at once, in small chunks
    results, _ = run_together(4, lambda _: webhooks.webhook_events_relay(chunk=3))
    # Then every event was relayed once, into exactly one delivery
    assert sum(results) == 40
    assert WebhookDelivery.objects.count() == 40
    assert WebhookDelivery.objects.values("event").distinct().count() == 40


def test_senders_side_by_side_send_each_delivery_once(hotel, receiver, clock):
    # Given 20 deliveries due for a retry (their first attempts, sent after the relay's
    # commit, failed)
    endpoint_make(hotel, receiver.url())
    receiver.answer(*[Reply(status=503)] * 20)
    for _ in range(20):
        emit_unkicked(hotel)
    webhooks.webhook_events_relay()
    assert len(receiver.requests) == 20
    receiver.requests.clear()
    clock.move(timedelta(hours=1))
    # When four senders run at once
    results, _ = run_together(4, lambda _: webhooks.webhook_deliveries_send())
    # Then each was sent once, and all succeeded
    assert sum(results) == 20
    assert len(receiver.requests) == 20
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 20
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 20

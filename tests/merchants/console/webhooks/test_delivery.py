"""Events reach the merchant's endpoints as signed Standard Webhooks, through a real
HTTP receiver on loopback; failures are retried with backoff, 410 and five days of
failures disable the endpoint, and every attempt is logged."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from standardwebhooks import Webhook

from common.events import EventType
from common.models import OutboxEvent
from merchants import services as merchant_services
from merchants.console import transport
from merchants.console.models import (
    DeliveryStatus,
    EndpointDisabledReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from merchants.console.services import webhooks
from merchants.perks import services as perks_services
from tests.merchants.conftest import code_for
from tests.merchants.console.webhooks.conftest import T0, Reply, emit, endpoint_make

pytestmark = pytest.mark.django_db


def test_the_relay_makes_one_delivery_per_live_subscribed_endpoint_of_the_merchant(
    hotel, other_hotel, receiver, clock
):
    # Given the hotel's endpoints: one for cancellations, one for claims only, one
    # disabled, one deleted; and the other hotel's endpoint for cancellations
    wanted, _ = endpoint_make(hotel, receiver.url("/a"))
    endpoint_make(hotel, receiver.url("/b"), [EventType.CLAIM_PAID])
    disabled, _ = endpoint_make(hotel, receiver.url("/c"))
    WebhookEndpoint.objects.filter(pk=disabled.pk).update(
        disabled_at=T0, disabled_reason=EndpointDisabledReason.GONE
    )
    deleted, _ = endpoint_make(hotel, receiver.url("/d"))
    webhooks.webhook_endpoint_delete(merchant=hotel, endpoint_id=deleted.pk)
    endpoint_make(other_hotel, receiver.url("/e"))
    # And a cancellation at the hotel, its kick lost
    event = emit(hotel)
    # When the relay runs (twice: the second finds nothing)
    assert webhooks.webhook_events_relay() == 1
    assert webhooks.webhook_events_relay() == 0
    # Then one delivery, pending now, to the one live endpoint that wants it
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint_id, delivery.event_id) == (wanted.pk, event.pk)
    assert (delivery.status, delivery.next_attempt_at, delivery.attempts) == (
        DeliveryStatus.PENDING,
        T0,
        0,
    )
    event.refresh_from_db()
    assert event.relayed_at == T0
    assert receiver.requests == []


def test_a_delivery_is_signed_so_that_the_library_verifies_it(hotel, receiver, clock):
    # Given an endpoint and a cancellation relayed to it
    _, secret = endpoint_make(hotel, receiver.url())
    assert secret.startswith("whsec_")
    event = emit(hotel, cancel_reason="merchant")
    webhooks.webhook_events_relay()
    # When the deliveries are sent
    assert webhooks.webhook_deliveries_send() == 1
    # Then the receiver got one POST the library verifies with the endpoint's secret
    [request] = receiver.requests
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload == {
        "type": "booking.cancelled",
        "timestamp": "2031-03-10T12:00:00+00:00",
        "data": {"object": "booking", "id": "b1", "reference": "R-1", "cancel_reason": "merchant"},
    }
    assert request.path == "/hooks"
    assert request.headers["webhook-id"] == f"msg_{event.pk.hex}"
    assert request.headers["webhook-timestamp"] == str(int(T0.timestamp()))
    assert request.headers["content-type"] == "application/json"
    # And another secret does not verify it
    other = webhooks.webhook_secret_make()
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(other).verify(request.body, request.headers)
    # And the delivery succeeded, its attempt logged
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.succeeded_at) == (
        DeliveryStatus.SUCCEEDED,
        1,
        T0,
    )
    assert (delivery.next_attempt_at, delivery.claimed_until, delivery.last_status_code) == (
        None,
        None,
        200,
    )
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.response_excerpt, attempt.error) == (200, "ok", "")
    # And nothing is sent again
    assert webhooks.webhook_deliveries_send() == 0
    assert len(receiver.requests) == 1


def test_a_failed_delivery_is_retried_and_received_exactly_once(hotel, receiver, clock):
    # Given an endpoint that fails twice (500, then a timeout), then recovers
    endpoint, secret = endpoint_make(hotel, receiver.url())
    receiver.answer(Reply(status=500, body=b"x" * 700), Reply(delay=1.5))
    emit(hotel)
    webhooks.webhook_events_relay()
    with override_settings(WEBHOOKS_TIMEOUT_SECONDS=0.5):
        # When it is sent: the first attempt fails
        assert webhooks.webhook_deliveries_send() == 1
        delivery = WebhookDelivery.objects.get()
        first_retry = delivery.next_attempt_at
        assert delivery.status == DeliveryStatus.PENDING
        # 30 s doubled 0 times, ±25 %
        assert T0 + timedelta(seconds=22.5) <= first_retry <= T0 + timedelta(seconds=37.5)
        endpoint.refresh_from_db()
        assert endpoint.failing_since == T0
        # Not before it is due
        clock.move(timedelta(seconds=20))
        assert webhooks.webhook_deliveries_send() == 0
        # Then at its time, the second fails (timed out) and waits about a minute
        clock.to(first_retry)
        assert webhooks.webhook_deliveries_send() == 1
        delivery.refresh_from_db()
        assert first_retry + timedelta(seconds=45) <= delivery.next_attempt_at
        assert delivery.next_attempt_at <= first_retry + timedelta(seconds=75)
        # And the third succeeds
        clock.to(delivery.next_attempt_at)
        assert webhooks.webhook_deliveries_send() == 1
        for request in receiver.requests:  # each signed anew, each verifies
            Webhook(secret).verify(request.body, request.headers)
        clock.move(timedelta(days=4))
        assert webhooks.webhook_deliveries_send() == 0
    # The receiver saw three requests with the same webhook-id, each verifiable, and
    # accepted (2xx) exactly one
    assert len(receiver.requests) == 3
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 3)
    attempts = list(WebhookAttempt.objects.order_by("attempted_at"))
    assert [a.status_code for a in attempts] == [500, None, 200]
    assert attempts[0].response_excerpt == "x" * 500
    assert attempts[1].error == "timed out after 0.5 s"
    assert attempts[1].duration_ms >= 500
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_delivery_failing_for_three_days_ends_failed(hotel, receiver, clock):
    # Given an endpoint that always answers 503
    endpoint, _ = endpoint_make(hotel, receiver.url())
    receiver.answer(*[Reply(status=503)] * 100)
    emit(hotel)
    webhooks.webhook_events_relay()
    # When it is retried whenever due
    delivery = WebhookDelivery.objects.get()
    while delivery.status == DeliveryStatus.PENDING:
        clock.to(delivery.next_attempt_at)
        assert webhooks.webhook_deliveries_send() == 1
        delivery.refresh_from_db()
    # Then it failed after its last attempt within three days, never past them
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None
    assert T0 + timedelta(days=2) < delivery.last_attempt_at <= T0 + timedelta(days=3)
    assert delivery.attempts == len(receiver.requests) == WebhookAttempt.objects.count()
    assert 15 <= delivery.attempts <= 25
    # And the endpoint, failing under five days, stays live
    endpoint.refresh_from_db()
    assert (endpoint.failing_since, endpoint.disabled_at) == (T0, None)


@pytest.mark.parametrize(
    ("attempt", "jitter", "seconds"),
    [
        (1, 0.0, 22.5),
        (1, 0.5, 30),
        (2, 0.5, 60),
        (5, 0.5, 480),
        (11, 0.5, 21600),
        (40, 0.999, 27_000 - 0.5 * 21.6),
    ],
)
def test_retry_delay_doubles_up_to_six_hours_with_a_quarter_of_jitter(attempt, jitter, seconds):
    assert webhooks.retry_delay(attempt, jitter) == timedelta(seconds=seconds)


def test_410_disables_the_endpoint_at_once_and_fails_its_pending_deliveries(hotel, receiver, clock):
    # Given an endpoint with two cancellations to deliver
    endpoint, _ = endpoint_make(hotel, receiver.url())
    receiver.answer(Reply(status=410, body=b"gone"))
    first, second = emit(hotel), emit(hotel)
    webhooks.webhook_events_relay()
    # When the first is answered 410 Gone
    assert webhooks.webhook_deliveries_send() == 1
    # Then the endpoint is disabled (gone), both deliveries failed, the second unsent
    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.disabled_reason) == (T0, EndpointDisabledReason.GONE)
    assert sorted(WebhookDelivery.objects.values_list("status", "next_attempt_at", "attempts")) == [
        (DeliveryStatus.FAILED, None, 0),
        (DeliveryStatus.FAILED, None, 1),
    ]
    assert len(receiver.requests) == 1
    # And a new event makes no delivery to it
    emit(hotel)
    webhooks.webhook_events_relay()
    assert WebhookDelivery.objects.count() == 2
    # Until the merchant enables it: then the next events go there again
    webhooks.webhook_endpoint_enable(merchant=hotel, endpoint_id=endpoint.pk, by=None)
    emit(hotel)
    webhooks.webhook_events_relay()
    assert webhooks.webhook_deliveries_send() == 1
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 1
    assert {first.pk, second.pk} <= set(OutboxEvent.objects.values_list("pk", flat=True))


def test_five_days_of_failures_disable_the_endpoint(hotel, receiver, clock):
    # Given an endpoint failing since T0
    endpoint, _ = endpoint_make(hotel, receiver.url())
    receiver.answer(*[Reply(status=500)] * 100)
    first = emit(hotel)
    webhooks.webhook_events_relay()
    webhooks.webhook_deliveries_send()
    # When four days later a new event fails too (and the first's retry, past its three
    # days, ends it failed), the endpoint stays live
    clock.move(timedelta(days=4))
    emit(hotel)
    webhooks.webhook_events_relay()
    assert webhooks.webhook_deliveries_send() == 2
    assert WebhookDelivery.objects.get(event=first).status == DeliveryStatus.FAILED
    endpoint.refresh_from_db()
    assert (endpoint.failing_since, endpoint.disabled_at) == (T0, None)
    # Then once five days have passed, the next failure disables it (failing) and ends
    # its pending deliveries
    clock.move(timedelta(days=1))
    webhooks.webhook_deliveries_send()
    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.disabled_reason) == (
        T0 + timedelta(days=5),
        EndpointDisabledReason.FAILING,
    )
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
    sent = len(receiver.requests)
    clock.move(timedelta(days=1))
    assert webhooks.webhook_deliveries_send() == 0
    assert len(receiver.requests) == sent


def test_a_redirect_is_not_followed(hotel, receiver, clock):
    # Given an endpoint answering 302 to another path
    receiver.answer(Reply(status=302, headers={"location": receiver.url("/elsewhere")}))
    endpoint_make(hotel, receiver.url())
    emit(hotel)
    webhooks.webhook_events_relay()
    # When it is sent
    webhooks.webhook_deliveries_send()
    # Then only the first URL was asked, and the attempt failed
    assert [request.path for request in receiver.requests] == ["/hooks"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 302)


def test_an_event_rolled_back_is_never_delivered(hotel, receiver, clock):
    endpoint_make(hotel, receiver.url())

    def change_that_fails() -> None:
        with transaction.atomic():
            emit(hotel)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert webhooks.webhook_events_relay() == 0
    assert webhooks.webhook_deliveries_send() == 0
    assert (OutboxEvent.objects.count(), WebhookDelivery.objects.count()) == (0, 0)
    assert receiver.requests == []


def test_the_commit_kick_relays_and_delivers_at_once_without_a_broker(
    hotel, receiver, clock, django_capture_on_commit_callbacks
):
    # Given an endpoint (eager mode: no broker in this test run)
    _, secret = endpoint_make(hotel, receiver.url())
    # When an event commits and its after-commit kick runs
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(hotel)
    # Then it was relayed and delivered in that kick
    [request] = receiver.requests
    assert json.loads(request.body)["type"] == "booking.cancelled"
    Webhook(secret).verify(request.body, request.headers)
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED
    event.refresh_from_db()
    assert event.relayed_at == T0


def test_a_deleted_endpoint_fails_its_pending_deliveries_and_a_resend_is_refused(
    hotel, receiver, clock
):
    endpoint, _ = endpoint_make(hotel, receiver.url())
    emit(hotel)
    webhooks.webhook_events_relay()
    webhooks.webhook_endpoint_delete(merchant=hotel, endpoint_id=endpoint.pk)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.FAILED, None)
    assert webhooks.webhook_deliveries_send() == 0
    assert receiver.requests == []


def test_a_sender_that_lost_its_lease_logs_its_attempt_but_decides_nothing(hotel, receiver, clock):
    # Given a delivery claimed by a sender that then stalls (here: the steps by hand)
    endpoint_make(hotel, receiver.url())
    emit(hotel)
    webhooks.webhook_events_relay()
    stalled = webhooks._claim(delivery_id=None)
    assert stalled is not None
    # While its lease runs no one else may take it
    clock.move(timedelta(seconds=119))
    assert webhooks._claim(delivery_id=None) is None
    assert webhooks.webhook_deliveries_send() == 0
    # When the lease has run out, another sender takes it and delivers it
    clock.move(timedelta(seconds=2))
    assert webhooks.webhook_deliveries_send() == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    # Then the stalled sender's late failure is logged, and changes nothing else
    webhooks._record(
        stalled,
        transport.Answer(
            status_code=None, excerpt="", error="timed out after 5 s", duration_ms=5000
        ),
        attempted_at=T0,
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.SUCCEEDED,
        2,
        None,
    )
    assert sorted(WebhookAttempt.objects.values_list("error", flat=True)) == [
        "",
        "timed out after 5 s",
    ]
    assert WebhookEndpoint.objects.get().failing_since is None


def test_a_consent_revoked_through_its_service_reaches_the_hotel_signed(
    hotel, citizen, receiver, clock, django_capture_on_commit_callbacks
):
    # Given the hotel's endpoint for revocations and a consent its guest gave it
    _, secret = endpoint_make(hotel, receiver.url(), [EventType.CONSENT_REVOKED])
    consent = merchant_services.consent_redeem(merchant=hotel, code=code_for(citizen))
    # When the guest revokes it (the perks' service) and the commit's kick runs
    with django_capture_on_commit_callbacks(execute=True):
        perks_services.consent_revoke(citizen=citizen, consent=consent)
    # Then the hotel's receiver got it, signed, with the event's exact data
    [request] = receiver.requests
    assert Webhook(secret).verify(request.body, request.headers) == {
        "type": "consent.revoked",
        "timestamp": "2031-03-10T12:00:00+00:00",
        "data": {
            "object": "consent",
            "id": str(consent.pk),
            "scope": "deposit_waiver",
            "revoked_at": "2031-03-10T12:00:00+00:00",
        },
    }
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED

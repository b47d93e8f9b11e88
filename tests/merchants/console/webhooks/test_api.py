"""The webhooks API as a merchant's developer uses it with an API key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from common.events import EventType
from merchants.console.models import (
    DeliveryStatus,
    EndpointDisabledReason,
    WebhookDelivery,
    WebhookEndpoint,
)
from merchants.console.services import webhooks
from tests.merchants.console.webhooks.conftest import T0, Reply, emit, endpoint_make

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/merchant/webhook-endpoints"
DELIVERIES = "/api/v1/merchant/webhook-deliveries"


def test_a_merchant_registers_an_endpoint_and_sees_its_secret_once(hotel, hotel_api, clock):
    # When the hotel registers an endpoint
    response = hotel_api.post(
        ENDPOINTS,
        {
            "url": "http://127.0.0.1:9/hooks",
            "events": ["claim.paid", "booking.cancelled", "claim.paid"],
            "description": "PMS",
        },
        format="json",
    )
    # Then 201 with the secret, the events deduplicated in the API's order
    assert response.status_code == 201
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body == {
        "id": str(endpoint.pk),
        "url": "http://127.0.0.1:9/hooks",
        "events": ["booking.cancelled", "claim.paid"],
        "description": "PMS",
        "created_at": "2031-03-10T12:00:00Z",
        "disabled_at": None,
        "disabled_reason": "",
        "failing_since": None,
        "secret": endpoint.secret,
    }
    assert body["secret"].startswith("whsec_")
    assert endpoint.created_with_key is not None
    assert endpoint.created_by is None
    # And the list never shows the secret again
    listed = hotel_api.get(ENDPOINTS).json()
    assert listed["results"] == [{k: v for k, v in body.items() if k != "secret"}]


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"url": "https://10.0.0.1/x", "events": ["bill.paid"]}, "url", "webhook_url_not_allowed"),
        ({"url": "not a url", "events": ["bill.paid"]}, "url", "invalid"),
        ({"url": "https://93.184.215.14/x", "events": []}, "events", "empty"),
        ({"url": "https://93.184.215.14/x", "events": ["bill.lost"]}, "events.0", "invalid_choice"),
        ({"url": "https://93.184.215.14/x"}, "events", "required"),
    ],
)
def test_a_bad_endpoint_is_refused_with_field_errors_and_nothing_is_made(
    hotel_api, payload, field, code
):
    response = hotel_api.post(ENDPOINTS, payload, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(error["field"], error["code"]) for error in errors] == [(field, code)]
    assert WebhookEndpoint.objects.count() == 0


@override_settings(WEBHOOKS_ALLOW_LOOPBACK=False)
def test_plain_http_to_loopback_is_refused_without_the_setting(hotel_api):
    response = hotel_api.post(
        ENDPOINTS, {"url": "http://[::1]:8000/x", "events": ["bill.paid"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_url_not_allowed"
    assert WebhookEndpoint.objects.count() == 0


def test_deleting_an_endpoint_fails_its_pending_deliveries(hotel, hotel_api, receiver, clock):
    # Given an endpoint with a pending delivery
    endpoint, _ = endpoint_make(hotel, receiver.url())
    emit(hotel)
    webhooks.webhook_events_relay()
    # When it is deleted
    response = hotel_api.delete(f"{ENDPOINTS}/{endpoint.pk}")
    # Then 204; it is gone from the list, kept with deleted_at, its delivery failed
    assert response.status_code == 204
    assert hotel_api.get(ENDPOINTS).json()["results"] == []
    endpoint.refresh_from_db()
    assert endpoint.deleted_at == T0
    assert WebhookDelivery.objects.get().status == DeliveryStatus.FAILED
    # And deleting it again is a 404
    assert hotel_api.delete(f"{ENDPOINTS}/{endpoint.pk}").status_code == 404


def test_another_merchants_endpoint_and_delivery_are_not_found(
    hotel, other_hotel_api, receiver, clock
):
    endpoint, _ = endpoint_make(hotel, receiver.url())
    emit(hotel)
    webhooks.webhook_events_relay()
    delivery = WebhookDelivery.objects.get()
    assert other_hotel_api.delete(f"{ENDPOINTS}/{endpoint.pk}").status_code == 404
    assert other_hotel_api.post(f"{DELIVERIES}/{delivery.pk}/resend").status_code == 404
    assert other_hotel_api.get(ENDPOINTS).json()["results"] == []
    assert other_hotel_api.get(DELIVERIES).json()["results"] == []
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert (endpoint.deleted_at, delivery.resent_at) == (None, None)


def test_deliveries_list_with_attempts_and_filters(hotel, hotel_api, receiver, clock):
    # Given two endpoints; a cancellation to the first fails once, a claim to the second
    # succeeds
    first, _ = endpoint_make(hotel, receiver.url("/first"))
    second, _ = endpoint_make(hotel, receiver.url("/second"), [EventType.CLAIM_PAID])
    receiver.answer(Reply(status=500, body=b"down"))
    cancelled = emit(hotel)
    clock.move(timedelta(seconds=1))
    paid = emit(hotel, EventType.CLAIM_PAID)
    webhooks.webhook_events_relay()
    webhooks.webhook_deliveries_send()
    cancel_delivery = WebhookDelivery.objects.get(event=cancelled)
    # When the hotel lists its deliveries
    listed = hotel_api.get(DELIVERIES).json()["results"]
    # Then both, newest event first, each with its event and attempts
    assert [row["event"]["id"] for row in listed] == [str(paid.pk), str(cancelled.pk)]
    row = listed[1]
    assert row == {
        "id": str(cancel_delivery.pk),
        "endpoint_id": str(first.pk),
        "webhook_id": f"msg_{cancelled.pk.hex}",
        "event": {
            "id": str(cancelled.pk),
            "type": "booking.cancelled",
            "occurred_at": "2031-03-10T12:00:00Z",
            "data": {"object": "booking", "id": "b1", "reference": "R-1"},
        },
        "status": "pending",
        "attempts": 1,
        "created_at": "2031-03-10T12:00:01Z",
        "next_attempt_at": row["next_attempt_at"],
        "last_attempt_at": "2031-03-10T12:00:01Z",
        "last_status_code": 500,
        "succeeded_at": None,
        "resent_at": None,
        "recent_attempts": [
            {
                "attempted_at": "2031-03-10T12:00:01Z",
                "status_code": 500,
                "duration_ms": row["recent_attempts"][0]["duration_ms"],
                "response_excerpt": "down",
                "error": "",
            }
        ],
    }

    # And the filters narrow it
    def ids(query: str) -> list[str]:
        return [r["event"]["id"] for r in hotel_api.get(f"{DELIVERIES}?{query}").json()["results"]]

    assert ids(f"endpoint={second.pk}") == [str(paid.pk)]
    assert ids("type=booking.cancelled") == [str(cancelled.pk)]
    assert ids("status=succeeded") == [str(paid.pk)]
    assert ids("status=failed") == []
    # And a bad filter is a 400 naming it
    response = hotel_api.get(f"{DELIVERIES}?status=lost&endpoint=x")
    assert response.status_code == 400
    assert sorted(error["field"] for error in response.json()["errors"]) == ["endpoint", "status"]


def test_resend_makes_a_delivery_pending_now_and_sends_it_again(
    hotel, hotel_api, receiver, clock, django_capture_on_commit_callbacks
):
    # Given a delivery that succeeded yesterday
    endpoint_make(hotel, receiver.url())
    event = emit(hotel)
    webhooks.webhook_events_relay()
    webhooks.webhook_deliveries_send()
    delivery = WebhookDelivery.objects.get()
    clock.move(timedelta(days=1))
    # When the merchant asks for it again (eager mode: sent at once)
    with django_capture_on_commit_callbacks(execute=True):
        response = hotel_api.post(f"{DELIVERIES}/{delivery.pk}/resend")
    # Then 202, and the receiver got it a second time with the same webhook-id
    assert response.status_code == 202
    assert response.json()["resent_at"] == "2031-03-11T12:00:00Z"
    assert [r.headers["webhook-id"] for r in receiver.requests] == [f"msg_{event.pk.hex}"] * 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.resent_at) == (
        DeliveryStatus.SUCCEEDED,
        2,
        T0 + timedelta(days=1),
    )


def test_resend_to_a_disabled_endpoint_is_a_conflict_and_changes_nothing(
    hotel, hotel_api, receiver, clock
):
    endpoint, _ = endpoint_make(hotel, receiver.url())
    receiver.answer(Reply(status=410))
    emit(hotel)
    webhooks.webhook_events_relay()
    webhooks.webhook_deliveries_send()
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == EndpointDisabledReason.GONE
    delivery = WebhookDelivery.objects.get()
    response = hotel_api.post(f"{DELIVERIES}/{delivery.pk}/resend")
    assert response.status_code == 409
    assert response.json()["code"] == "webhook_endpoint_not_live"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.resent_at, delivery.attempts) == (
        DeliveryStatus.FAILED,
        None,
        1,
    )
    assert len(receiver.requests) == 1


def test_the_webhook_views_require_the_webhooks_scope():
    from merchants.console import api

    for view in (
        api.WebhookEndpointListView,
        api.WebhookEndpointView,
        api.WebhookDeliveryListView,
        api.WebhookDeliveryResendView,
    ):
        assert view.required_scope == "webhooks"


def test_the_delivery_list_costs_a_fixed_number_of_queries(
    hotel, hotel_api, receiver, clock, django_assert_max_num_queries
):
    endpoint_make(hotel, receiver.url())
    for _ in range(6):
        emit(hotel)
    webhooks.webhook_events_relay()
    webhooks.webhook_deliveries_send()
    with django_assert_max_num_queries(12):
        assert len(hotel_api.get(DELIVERIES).json()["results"]) == 6

"""Staff read webhooks in the admin: every page loads, nothing can be changed there, and
an endpoint's signing secret is never shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from merchants.console.models import WebhookDelivery
from merchants.console.services import webhooks
from tests.merchants.console.webhooks.conftest import Reply, emit, endpoint_make

pytestmark = pytest.mark.django_db


def test_the_webhook_admin_pages_load_read_only_without_the_secret(
    admin_client, admin_user, hotel, receiver, clock
):
    admin_client.force_login(admin_user)  # a session of the pinned clock's time
    # Given an endpoint with a delivery that failed once
    endpoint, secret = endpoint_make(hotel, receiver.url())
    receiver.answer(Reply(status=500, body=b"boom"))
    event = emit(hotel)
    webhooks.webhook_events_relay()
    webhooks.webhook_deliveries_send()
    delivery = WebhookDelivery.objects.get()
    pages = [
        reverse("admin:console_webhookendpoint_changelist"),
        reverse("admin:console_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:console_webhookdelivery_changelist"),
        reverse("admin:console_webhookdelivery_change", args=[delivery.pk]),
        reverse("admin:common_outboxevent_changelist"),
        reverse("admin:common_outboxevent_change", args=[event.pk]),
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert secret not in response.content.decode(), page
        assert secret.removeprefix("whsec_") not in response.content.decode(), page
    # The attempt is shown on its delivery's page
    assert "boom" in admin_client.get(pages[3]).content.decode()
    # And nothing can be added or changed
    for model in ("console_webhookendpoint", "console_webhookdelivery", "common_outboxevent"):
        assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 403
    response = admin_client.post(pages[1], {"url": "https://evil.example/"})
    assert response.status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.url == receiver.url()

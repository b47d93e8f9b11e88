"""API keys and webhooks in the console: made with what they may do, shown once,
revoked, deleted, enabled again; deliveries and their attempts; resends."""

from __future__ import annotations

import re
import uuid

import pytest
from django.utils import timezone

from common.models import OutboxEvent
from merchants import services
from merchants.console.models import (
    ConsoleAction,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from merchants.models import ApiKey, Merchant
from tests.merchants.console.conftest import MemberMaker

pytestmark = pytest.mark.django_db


def test_a_manager_makes_a_scoped_key_shown_once_then_revokes_it(
    hotel: Merchant, member_make: MemberMaker, console_client
):
    manager = member_make(hotel, "manager")
    client = console_client(manager)
    made = client.post(
        "/merchant/keys/",
        {
            "action": "create",
            "name": "PMS",
            "scopes": ["eligibility", "bookings"],
            "expires_on": "2099-01-31",
            "networks": "203.0.113.0/24\n2001:db8::1",
        },
    )
    html = made.content.decode()
    raw = re.search(r'id="new-key">(sk_live_[^<]+)<', html)
    assert made.status_code == 200
    assert raw is not None
    api_key = ApiKey.objects.get(merchant=hotel, name="PMS")
    assert api_key.scopes == ["eligibility", "bookings"]
    assert api_key.allowed_networks == ["203.0.113.0/24", "2001:db8::1"]
    assert api_key.created_by_id == manager.user_id
    assert services.api_key_use(raw_key=raw.group(1)) is not None
    assert raw.group(1) not in client.get("/merchant/keys/").content.decode()

    revoked = client.post("/merchant/keys/", {"action": "revoke", "key": api_key.pk})
    assert revoked.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_by_id == manager.user_id
    assert list(ConsoleAction.objects.order_by("at", "id").values_list("verb", flat=True)) == [
        "key.create",
        "key.revoke",
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"networks": "not-a-network"}, "networks"),
        ({"expires_on": "2001-01-01"}, "expires_on"),
    ],
)
def test_a_bad_key_form_shows_the_field_and_makes_nothing(
    hotel: Merchant, member_make: MemberMaker, console_client, fields: dict, field: str
):
    data = {"action": "create", "name": "PMS", "scopes": ["bookings"], **fields}
    response = console_client(member_make(hotel, "owner")).post("/merchant/keys/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert ApiKey.objects.filter(merchant=hotel).count() == 0
    assert ConsoleAction.objects.count() == 0


def test_another_merchants_key_is_not_found(
    hotel: Merchant, other_hotel: Merchant, member_make: MemberMaker, console_client
):
    theirs, _ = services.api_key_create(merchant=other_hotel, name="theirs")
    response = console_client(member_make(hotel, "owner")).post(
        "/merchant/keys/", {"action": "revoke", "key": theirs.pk}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def _delivery(endpoint: WebhookEndpoint, status: str) -> WebhookDelivery:
    now = timezone.now()
    event = OutboxEvent.objects.create(
        type="claim.paid", merchant_id=endpoint.merchant_id, data={"id": "x"}, occurred_at=now
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        status=status,
        attempts=1,
        created_at=now,
        next_attempt_at=now if status == DeliveryStatus.PENDING else None,
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=500,
        duration_ms=42,
        response_excerpt="boom",
    )
    return delivery


def test_an_owner_adds_an_endpoint_sees_its_secret_once_and_its_deliveries(
    hotel: Merchant, member_make: MemberMaker, console_client
):
    client = console_client(member_make(hotel, "owner"))
    made = client.post(
        "/merchant/webhooks/",
        {"url": "http://127.0.0.1:9/in", "events": ["claim.paid", "bill.paid"]},
    )
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', made.content.decode())
    assert made.status_code == 200
    assert secret is not None
    endpoint = WebhookEndpoint.objects.get(merchant=hotel)
    assert (endpoint.url, endpoint.events) == (
        "http://127.0.0.1:9/in",
        ["claim.paid", "bill.paid"],
    )
    delivery = _delivery(endpoint, DeliveryStatus.FAILED)
    page = client.get(f"/merchant/webhooks/{endpoint.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert secret.group(1) not in html
    assert f"msg_{delivery.event_id.hex}" in html
    assert "boom" in html
    partial = client.get(f"/merchant/webhooks/{endpoint.pk}/?status=failed", HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()
    assert "boom" in partial.content.decode()

    resent = client.post(
        f"/merchant/webhooks/{endpoint.pk}/", {"action": "resend", "delivery": delivery.pk}
    )
    assert resent.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


def test_a_disabled_endpoint_is_enabled_again_and_a_deleted_one_is_gone(
    hotel: Merchant, other_hotel: Merchant, member_make: MemberMaker, console_client
):
    now = timezone.now()
    endpoint = WebhookEndpoint.objects.create(
        merchant=hotel,
        url="https://hooks.example.com/in",
        events=["claim.paid"],
        secret="whsec_x",
        created_at=now,
        disabled_at=now,
        disabled_reason="failing",
    )
    client = console_client(member_make(hotel, "manager"))
    client.post(f"/merchant/webhooks/{endpoint.pk}/", {"action": "enable"})
    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.disabled_reason) == (None, "")
    stranger = console_client(member_make(other_hotel, "owner"))
    assert (
        stranger.post(f"/merchant/webhooks/{endpoint.pk}/", {"action": "delete"}).status_code == 404
    )
    endpoint.refresh_from_db()
    assert endpoint.deleted_at is None
    deleted = client.post(f"/merchant/webhooks/{endpoint.pk}/", {"action": "delete"})
    assert deleted["Location"] == "/merchant/webhooks/"
    endpoint.refresh_from_db()
    assert endpoint.deleted_at is not None
    assert client.get(f"/merchant/webhooks/{endpoint.pk}/").status_code == 404
    assert client.get(f"/merchant/webhooks/{uuid.uuid4()}/").status_code == 404


def test_a_bad_endpoint_form_makes_nothing(
    hotel: Merchant, member_make: MemberMaker, console_client
):
    client = console_client(member_make(hotel, "owner"))
    response = client.post("/merchant/webhooks/", {"url": "ftp://x", "events": []})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"url", "events"}
    assert WebhookEndpoint.objects.count() == 0

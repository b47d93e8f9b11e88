"""A key given client networks is accepted only from inside them: the client's address
as every limiter reads it (``common.throttling.client_address``: the socket's, or behind
a trusted proxy the forwarded client's), checked before the key's scopes, with nothing
written when it refuses."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from merchants import services
from merchants.models import ALL_SCOPES, AuthorizationCode, Merchant
from merchants.perks.models import Decision
from scoring.models import AccessLogEntry
from tests.merchants.conftest import ELIGIBILITY_URL, code_for, make_reliable, merchant_client
from wallet.models import User

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/v1/merchant/bookings"
NETWORK_REFUSAL = {
    "type": "https://opensesame.example/problems/network_not_allowed",
    "title": "Network not allowed",
    "status": 403,
    "detail": "This API key is not accepted from this client's network.",
    "code": "network_not_allowed",
    "errors": [],
}


def client_from(merchant: Merchant, *networks: str, scopes: tuple[str, ...] = ()) -> APIClient:
    raw_key = services.api_key_create(
        merchant=merchant, allowed_networks=networks, scopes=scopes or ALL_SCOPES
    )[1]
    return merchant_client(raw_key)


@pytest.mark.parametrize(
    ("networks", "address", "allowed"),
    [
        ((), "198.51.100.7", True),
        (("203.0.113.0/24",), "203.0.113.9", True),
        (("203.0.113.0/24",), "203.0.114.9", False),
        (("203.0.113.7",), "203.0.113.7", True),
        (("203.0.113.7",), "203.0.113.8", False),
        (("10.0.0.0/8", "2001:db8::/32"), "2001:db8:1::5", True),
        (("10.0.0.0/8", "2001:db8::/32"), "2001:db9::5", False),
        (("203.0.113.0/24",), "2001:db8::1", False),
    ],
)
def test_a_key_is_accepted_only_from_its_networks(
    hotel: Merchant, networks: tuple[str, ...], address: str, allowed: bool
) -> None:
    response = client_from(hotel, *networks).get(BOOKINGS, REMOTE_ADDR=address)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.json() == NETWORK_REFUSAL


def test_behind_a_trusted_proxy_the_forwarded_client_is_checked(hotel: Merchant) -> None:
    client = client_from(hotel, "203.0.113.0/24")
    with override_settings(TRUSTED_PROXIES=["10.0.0.0/8"]):
        inside = client.get(BOOKINGS, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.50")
        outside = client.get(BOOKINGS, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.50")
    # A client writing the header itself, without a trusted proxy, is its socket's address
    forged = client.get(BOOKINGS, REMOTE_ADDR="198.51.100.50", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert (inside.status_code, outside.status_code, forged.status_code) == (200, 403, 403)
    assert outside.json()["code"] == forged.json()["code"] == "network_not_allowed"


def test_the_network_is_checked_before_the_scopes(hotel: Merchant) -> None:
    # A key from the wrong network learns nothing about its scopes
    client = client_from(hotel, "203.0.113.0/24", scopes=("bills",))
    outside = client.get(BOOKINGS, REMOTE_ADDR="198.51.100.1")
    inside = client.get(BOOKINGS, REMOTE_ADDR="203.0.113.1")
    assert (outside.status_code, outside.json()["code"]) == (403, "network_not_allowed")
    assert (inside.status_code, inside.json()["code"]) == (403, "insufficient_scope")


def test_a_refused_network_redeems_no_code_and_records_nothing(
    hotel: Merchant, citizen: User
) -> None:
    make_reliable(citizen)
    code = code_for(citizen)
    client = client_from(hotel, "203.0.113.0/24")
    body = {"code": code, "perk": "deposit_waiver", "amount": 50_000}
    refused = client.post(ELIGIBILITY_URL, body, format="json", REMOTE_ADDR="198.51.100.1")
    assert refused.json() == NETWORK_REFUSAL
    assert AuthorizationCode.objects.get().redeemed_at is None
    assert (Decision.objects.count(), AccessLogEntry.objects.count()) == (0, 0)
    # From inside, the same code is redeemed
    decided = client.post(ELIGIBILITY_URL, body, format="json", REMOTE_ADDR="203.0.113.1")
    assert decided.status_code == 200
    assert Decision.objects.count() == 1

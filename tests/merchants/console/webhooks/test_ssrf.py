"""Webhooks never become a way into our own network: a URL whose host is, or resolves
to, a private, loopback, link-local, reserved or multicast address is refused when it
is registered and again at each delivery, and the request goes to the very address that
was checked (a second DNS answer cannot swap it)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from django.test import override_settings

from common.events import EventType
from merchants.console import transport
from merchants.console.errors import WebhookUrlNotAllowed
from merchants.console.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from merchants.console.services import webhooks
from tests.merchants.console.webhooks.conftest import emit, endpoint_make

pytestmark = pytest.mark.django_db

REFUSED_WITHOUT_LOOPBACK = [
    "https://10.0.0.7/hooks",
    "https://172.16.3.4/hooks",
    "https://192.168.1.1/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/hooks",
    "https://0.0.0.0/hooks",
    "https://224.0.0.1/hooks",
    "https://240.0.0.1/hooks",
    "https://[fe80::1]/hooks",
    "https://[fc00::1]/hooks",
    "https://[::ffff:10.0.0.1]/hooks",
    "http://[::1]:8080/hooks",
    "http://127.0.0.1:8080/hooks",
    "https://127.0.0.1/hooks",
    "http://localhost:8080/hooks",
    "http://93.184.215.14/hooks",  # public, but plain http
    "https://user:pass@93.184.215.14/hooks",
    "ftp://93.184.215.14/hooks",
]


@pytest.mark.parametrize("url", REFUSED_WITHOUT_LOOPBACK)
@override_settings(WEBHOOKS_ALLOW_LOOPBACK=False)
def test_a_url_into_a_private_network_is_refused_at_registration(hotel, url):
    with pytest.raises(WebhookUrlNotAllowed) as refused:
        webhooks.webhook_endpoint_create(
            merchant=hotel, url=url, events=[EventType.BOOKING_CANCELLED]
        )
    assert refused.value.errors[0].field == "url"
    assert refused.value.errors[0].code == "webhook_url_not_allowed"
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.7/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/hooks",
        "http://93.184.215.14/hooks",
    ],
)
def test_loopback_allowed_still_refuses_private_and_plain_http_to_public(hotel, url):
    with pytest.raises(WebhookUrlNotAllowed):
        webhooks.webhook_endpoint_create(
            merchant=hotel, url=url, events=[EventType.BOOKING_CANCELLED]
        )
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hooks", "http://[::1]:8080/hooks"])
def test_plain_http_to_loopback_is_accepted_when_the_setting_allows_it(hotel, url):
    endpoint, _ = webhooks.webhook_endpoint_create(
        merchant=hotel, url=url, events=[EventType.BOOKING_CANCELLED]
    )
    assert endpoint.url == url


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("10.1.2.3", False),
        ("169.254.169.254", False),
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:192.168.0.1", False),
        ("ff02::1", False),
        ("198.18.0.1", False),
        ("192.0.2.1", False),
    ],
)
def test_which_addresses_are_public(address, allowed):
    assert transport.address_allowed(ipaddress.ip_address(address), allow_loopback=False) is allowed


def _resolving(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    """The resolver answers each lookup with the next address (DNS rebinding); returns
    the log of names looked up."""
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:  # an address, not a name: no DNS involved
            return real_getaddrinfo(host, port, *args, **kwargs)
        looked_up.append(host)
        address = answers[min(len(looked_up), len(answers)) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(transport.socket, "getaddrinfo", getaddrinfo)
    return looked_up


@override_settings(WEBHOOKS_ALLOW_LOOPBACK=False)
def test_a_name_resolving_to_a_private_address_is_refused(hotel, monkeypatch):
    _resolving(monkeypatch, ["10.20.30.40"])
    with pytest.raises(WebhookUrlNotAllowed, match="resolves to a private"):
        webhooks.webhook_endpoint_create(
            merchant=hotel, url="https://hooks.example.com/x", events=["bill.paid"]
        )
    assert WebhookEndpoint.objects.count() == 0


def test_a_delivery_rechecks_the_address_and_sends_nothing_when_it_turned_private(
    hotel, receiver, clock, monkeypatch
):
    # Given an endpoint registered on loopback while that was allowed
    endpoint_make(hotel, receiver.url())
    emit(hotel)
    webhooks.webhook_events_relay()
    # When it is delivered where loopback is no longer allowed
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=False):
        assert webhooks.webhook_deliveries_send() == 1
    # Then nothing was sent; the attempt says why and the delivery is retried later
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.duration_ms) == (None, 0)
    assert attempt.error == (
        "not sent: 127.0.0.1 is a private, loopback, link-local or reserved address"
    )
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_the_request_goes_to_the_address_checked_not_to_a_second_dns_answer(
    hotel, receiver, clock, monkeypatch
):
    # Given a name whose first answer is loopback (allowed here) and every later answer
    # an internal address (a rebinding attacker's DNS)
    looked_up = _resolving(monkeypatch, ["127.0.0.1", "127.0.0.1", "10.9.9.9"])
    url = f"http://hooks.example.test:{receiver.port}/rebind"
    endpoint_make(hotel, url)  # lookup 1, at registration
    emit(hotel)
    webhooks.webhook_events_relay()
    # When it is delivered (lookup 2 checks it; a lookup at connect would get 10.9.9.9)
    assert webhooks.webhook_deliveries_send() == 1
    # Then the name was resolved once per check, and the request reached the checked
    # loopback address, with the name in Host
    assert looked_up == ["hooks.example.test", "hooks.example.test"]
    [request] = receiver.requests
    assert request.path == "/rebind"
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED
    # And the next check, given the internal address, refuses to send
    emit(hotel)
    webhooks.webhook_events_relay()
    webhooks.webhook_deliveries_send()
    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(status_code__isnull=True).get().error == (
        "not sent: hooks.example.test resolves to a private, loopback, link-local or "
        "reserved address"
    )

"""Spoofed forwarded headers: a client's own ``X-Forwarded-For`` never changes the
address it is counted under.

The address is ``common.throttling.client_address``: the socket's address unless that
is a proxy listed in ``TRUSTED_PROXIES``, and then the first address, read from the
right of ``X-Forwarded-For``, that is not such a proxy. The throttles, the attempt
limiters and the login lockout all use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from common.throttling import AccountRateThrottle, client_address
from merchants import services as merchant_services
from merchants.perks import services as perks_services
from tests.conftest import PASSWORD
from tests.test_settings import PRODUCTION_ENV, run_manage
from wallet.models import User

TOKEN = "/api/v1/auth/token"
REGISTER = "/api/v1/auth/register"
PROXY = "10.0.0.2"


# --- client_address ----------------------------------------------------------------------


def address_of(
    remote: str | None, forwarded: str | None = None, *, trusted: list[str] | None = None
) -> str:
    meta: dict[str, str] = {}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/")
    request.META.update(meta)
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    with override_settings(TRUSTED_PROXIES=trusted or []):
        return client_address(request)


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        # No trusted proxy (the default): the socket's address, whatever the header says.
        ("203.0.113.7", None, [], "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", [], "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1, 203.0.113.7", [], "203.0.113.7"),
        # Proxies configured, but the request does not come from one: header ignored.
        ("203.0.113.7", "198.51.100.1", ["10.0.0.0/8"], "203.0.113.7"),
        # From a trusted proxy: the address it forwarded.
        (PROXY, "198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        (PROXY, "198.51.100.1", [PROXY], "198.51.100.1"),
        # What the client wrote itself sits left of what the proxy appended: never reached.
        (PROXY, "6.6.6.6, 198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        (PROXY, "6.6.6.6,198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        # Two proxies: both skipped, right to left.
        (PROXY, "6.6.6.6, 198.51.100.1, 10.0.0.9", ["10.0.0.0/8"], "198.51.100.1"),
        (PROXY, "198.51.100.1, 192.0.2.10", ["10.0.0.0/8", "192.0.2.10"], "198.51.100.1"),
        # A proxy only trusted when listed: an untrusted one in the chain is the client.
        (PROXY, "198.51.100.1, 192.0.2.10", ["10.0.0.0/8"], "192.0.2.10"),
        # Every entry a proxy (its own health check): the leftmost.
        (PROXY, "10.0.0.9", ["10.0.0.0/8"], "10.0.0.9"),
        # Nothing forwarded: the proxy itself.
        (PROXY, None, ["10.0.0.0/8"], PROXY),
        (PROXY, "", ["10.0.0.0/8"], PROXY),
        (PROXY, " , ", ["10.0.0.0/8"], PROXY),
        # Not an address where the client should be: the walk stops at the last proxy.
        (PROXY, "198.51.100.1, not-an-address", ["10.0.0.0/8"], PROXY),
        (PROXY, "unknown, 10.0.0.9", ["10.0.0.0/8"], "10.0.0.9"),
        # Ports and brackets some proxies add; canonical forms out.
        (PROXY, "203.0.113.7:4711", ["10.0.0.0/8"], "203.0.113.7"),
        (PROXY, "[2001:db8::1]:443", ["10.0.0.0/8"], "2001:db8::1"),
        (PROXY, "2001:DB8:0::1", ["10.0.0.0/8"], "2001:db8::1"),
        # IPv6 proxies, and IPv4 addresses mapped into IPv6.
        ("2001:db8:1::5", "198.51.100.1", ["2001:db8:1::/48"], "198.51.100.1"),
        ("::ffff:10.0.0.2", "198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        ("::ffff:203.0.113.7", None, [], "203.0.113.7"),
        # No socket address at all (a test client, a unit test).
        (None, "198.51.100.1", [], "unknown"),
    ],
)
def test_client_address(
    remote: str | None, forwarded: str | None, trusted: list[str], expected: str
) -> None:
    assert address_of(remote, forwarded, trusted=trusted) == expected


@pytest.mark.slow
def test_a_trusted_proxy_that_is_not_an_address_refuses_to_start() -> None:
    result = run_manage("check", env={**PRODUCTION_ENV, "TRUSTED_PROXIES": "10.0.0.0/8,proxy"})
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: 'proxy' is not an IP address or CIDR block" in result.stderr


# --- Through the API ---------------------------------------------------------------------


@pytest.fixture
def tight_auth_rate(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Three requests a minute per address, a generous rate per account (each request
    below names another account, so only the per-address count can stop them)."""
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "auth": "3/min", "auth_account": "1000/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AccountRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    yield
    cache.clear()


def guess(client: APIClient, n: int, **meta: Any) -> int:
    return client.post(
        TOKEN, {"username": f"victim{n}", "password": "wrong"}, format="json", **meta
    ).status_code


@pytest.mark.django_db
@pytest.mark.usefixtures("tight_auth_rate")
def test_without_trusted_proxies_a_forwarded_header_does_not_escape_the_throttle(
    api: APIClient,
) -> None:
    # When one client sends a new X-Forwarded-For with every guess
    statuses = [
        guess(api, n, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        for n in range(5)
    ]
    # Then it is one address all the same: the fourth guess is throttled
    assert statuses == [401, 401, 401, 429, 429]
    # And another address is not
    assert guess(api, 9, REMOTE_ADDR="203.0.113.8") == 401


@pytest.mark.django_db
@pytest.mark.usefixtures("tight_auth_rate")
@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_a_trusted_proxy_each_client_is_counted_and_spoofing_does_not_help(
    api: APIClient,
) -> None:
    # Given a client behind the proxy that puts a new address of its own choosing in the
    # header each time (the proxy appends the address it really came from)
    statuses = [
        guess(
            api,
            n,
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.1",
        )
        for n in range(5)
    ]
    # Then it is counted under its real address and throttled at the fourth guess
    assert statuses == [401, 401, 401, 429, 429]
    # While another client behind the same proxy is not
    assert guess(api, 9, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2") == 401


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], LOGIN_FAILURE_LIMIT=10)
def test_the_login_lockout_records_the_client_address(api: APIClient) -> None:
    # When a login fails through the proxy, with a spoofed entry in front
    status = api.post(
        TOKEN,
        {"username": "Victim", "password": "wrong"},
        format="json",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1",
        HTTP_USER_AGENT="test-agent",
    ).status_code
    # Then axes counts it against the account, noting the client's real address
    assert status == 401
    assert list(
        AccessAttempt.objects.values_list("username", "ip_address", "failures_since_start")
    ) == [("victim", "198.51.100.1", 1)]


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], CODE_ATTEMPTS_LIMIT=2)
def test_failed_api_keys_are_counted_per_client_behind_the_proxy() -> None:
    cache.clear()
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    _, raw = merchant_services.api_key_create(merchant=hotel, name="front desk")
    wrong, right = APIClient(), APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer {raw[:-4]}AAAA")
    right.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    payouts = "/api/v1/merchant/payouts"

    def from_client(client: APIClient, forwarded: str) -> int:
        return client.get(payouts, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded).status_code

    # Given two failed keys from one client, each with a different spoofed entry
    assert [from_client(wrong, f"192.0.2.{n}, 198.51.100.1") for n in range(2)] == [401, 401]
    # Then that client is refused even with the right key, another client behind the
    # same proxy is not
    assert from_client(right, "192.0.2.99, 198.51.100.1") == 429
    assert from_client(right, "198.51.100.2") == 200
    cache.clear()


@pytest.mark.django_db
@pytest.mark.usefixtures("tight_auth_rate")
def test_registration_is_throttled_per_address_too(api: APIClient) -> None:
    statuses = [
        api.post(
            REGISTER,
            {"username": f"new{n}", "password": PASSWORD},
            format="json",
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(4)
    ]
    assert statuses == [201, 201, 201, 429]
    assert sorted(User.objects.values_list("username", flat=True)) == ["new0", "new1", "new2"]

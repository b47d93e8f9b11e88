"""The throttles' cache fails deliberately (common.throttling): with it down or paused,
endpoints where a guess is the attack (login, token, register, redeeming a code) answer
429 with Retry-After, every other throttled endpoint goes on; nothing answers 500.

The cache is a Redis server of the test's own, killed or paused by the test."""

import time
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from common.throttling import cache_outage_reset
from merchants import services
from merchants.models import Consent, Merchant
from tests.conftest import PASSWORD
from tests.merchants.conftest import BOOKINGS_URL, ELIGIBILITY_URL, code_for, make_reliable
from tests.private_redis import PrivateRedis, private_redis
from wallet.models import User

REDEEM_URL = "/api/v1/merchant/consents"


@pytest.fixture
def cache_server(settings) -> Iterator[PrivateRedis]:
    """The throttles' cache on a private Redis, as production configures it."""
    with private_redis() as redis:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis.url,
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            }
        }
        cache_outage_reset()
        try:
            yield redis
        finally:
            cache_outage_reset()


def login(client: APIClient, url: str = "/api/v1/auth/token") -> int:
    return client.post(url, {"username": "alice", "password": PASSWORD}, format="json").status_code


def assert_throttled_closed(response) -> None:
    assert response.status_code == 429, response.content
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "throttled"


@pytest.mark.slow
@pytest.mark.django_db
def test_the_throttles_count_in_the_shared_cache(cache_server, citizen):
    # A token request counts in the cache (the key is the throttle's)
    assert login(APIClient()) == 200
    keys = cache_server.command("--scan").split()
    assert any(b"throttle_auth_" in key for key in keys), keys


@pytest.mark.slow
@pytest.mark.django_db
def test_with_the_cache_down_password_endpoints_fail_closed(cache_server, citizen):
    # Given the cache stopped
    cache_server.stop()
    client = APIClient()
    # Then token, login and register answer 429 with Retry-After, never 500
    assert_throttled_closed(
        client.post(
            "/api/v1/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
        )
    )
    client.get("/api/v1/auth/csrf")
    assert_throttled_closed(
        client.post(
            "/api/v1/auth/login",
            {"username": "alice", "password": PASSWORD},
            format="json",
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        )
    )
    assert_throttled_closed(
        client.post(
            "/api/v1/auth/register",
            {"username": "mallory", "password": PASSWORD, "display_name": "M"},
            format="json",
        )
    )
    # And nobody was registered
    assert not User.objects.filter(username="mallory").exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_with_the_cache_down_redeeming_a_code_fails_closed_and_keeps_the_code(
    cache_server, settings, citizen: User, hotel: Merchant, hotel_api: APIClient
):
    code = code_for(citizen)
    cache_server.stop()
    # Redeeming, alone or to decide, answers 429
    assert_throttled_closed(hotel_api.post(REDEEM_URL, {"code": code}, format="json"))
    assert_throttled_closed(
        hotel_api.post(
            ELIGIBILITY_URL,
            {"code": code, "perk": "deposit_waiver", "amount": 30_000},
            format="json",
        )
    )
    # And the code was not spent: once a cache answers again, it redeems
    assert not Consent.objects.filter(citizen=citizen).exists()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache_outage_reset()
    assert hotel_api.post(REDEEM_URL, {"code": code}, format="json").status_code == 201


@pytest.mark.slow
@pytest.mark.django_db
def test_with_the_cache_down_other_merchant_calls_fail_open(
    cache_server, citizen: User, hotel: Merchant, hotel_api: APIClient
):
    # Given a live consent of a reliable citizen to the hotel
    make_reliable(citizen)
    consent = services.consent_redeem(merchant=hotel, code=code_for(citizen))
    cache_server.stop()
    # Then a decision by live consent and a read go through
    decision = hotel_api.post(
        ELIGIBILITY_URL,
        {"consent_id": str(consent.pk), "perk": "deposit_waiver", "amount": 30_000},
        format="json",
    )
    assert decision.status_code == 200, decision.json()
    assert decision.json()["eligible"] is True
    assert hotel_api.get(BOOKINGS_URL).status_code == 200


@pytest.mark.slow
@pytest.mark.django_db
def test_with_the_cache_paused_requests_do_not_wait_on_it(
    cache_server, citizen: User, hotel: Merchant, hotel_api: APIClient
):
    # Given the cache paused: it accepts connections and answers nothing
    cache_server.pause()
    # The first request waits once for the cache's socket timeout, then goes through
    started = time.monotonic()
    assert hotel_api.get(BOOKINGS_URL).status_code == 200
    assert time.monotonic() - started < 2
    # And the next ones do not wait on it at all while the outage lasts
    started = time.monotonic()
    for _ in range(5):
        assert hotel_api.get(BOOKINGS_URL).status_code == 200
    assert time.monotonic() - started < 1
    # A login meanwhile is refused with 429, at once
    started = time.monotonic()
    assert login(APIClient()) == 429
    assert time.monotonic() - started < 0.5

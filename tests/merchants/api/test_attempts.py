"""Guessing codes and keys through the merchant API is limited: failed code redemptions
per merchant and per client address, failed API keys per client address
(``CODE_ATTEMPTS_LIMIT`` failures in ``CODE_ATTEMPTS_WINDOW`` seconds, counted in the
cache). Over a limit, the next attempt is refused before it is tried, right or wrong:
429 ``too_many_attempts`` with ``Retry-After``, and a warning an operator can alert on.

Every failure a merchant did not cause itself answers ``code_invalid``, so a prober
cannot tell an unknown code from an expired one or one used by someone else.

The cache is the local-memory one the tests run with, cleared for each test; the same
counts in Redis are tested with the shared cache below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from common.throttling import cache_outage_reset
from merchants import services
from merchants.models import AuthorizationCode, Consent, Merchant
from merchants.perks.models import Decision
from tests.merchants.conftest import (
    ELIGIBILITY_URL,
    ClientResponse,
    code_for,
    merchant_client,
)
from tests.private_redis import private_redis
from wallet.models import User

pytestmark = pytest.mark.django_db

REDEEM_URL = "/api/v1/merchant/consents"
LIMIT = 3
WINDOW = 600


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> Iterator[None]:
    settings.CODE_ATTEMPTS_LIMIT = LIMIT
    settings.CODE_ATTEMPTS_WINDOW = WINDOW
    cache.clear()
    yield
    cache.clear()


def redeem(client: APIClient, code: str, address: str = "203.0.113.7") -> ClientResponse:
    return client.post(REDEEM_URL, {"code": code}, format="json", REMOTE_ADDR=address)


def ask(client: APIClient, code: str, address: str = "203.0.113.7") -> ClientResponse:
    return client.post(
        ELIGIBILITY_URL,
        {"code": code, "perk": "deposit_waiver", "amount": 30_000},
        format="json",
        REMOTE_ADDR=address,
    )


def written() -> dict[str, int]:
    return {
        "codes_redeemed": AuthorizationCode.objects.filter(redeemed_at__isnull=False).count(),
        "consents": Consent.objects.count(),
        "decisions": Decision.objects.count(),
    }


def redis_caches(url: str) -> dict[str, Any]:
    """The cache on a Redis of the test's own, as production configures it."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def assert_limited(response: ClientResponse, *, at_most: int = WINDOW) -> None:
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "too_many_attempts"
    assert 0 < int(response["Retry-After"]) <= at_most


# --- One answer for every failure ------------------------------------------------------


def test_every_failure_a_merchant_did_not_cause_answers_code_invalid_alike(
    citizen: User,
    hotel_api: APIClient,
    other_hotel: Merchant,
    other_hotel_api: APIClient,
    travel: Callable[[timedelta], None],
    settings: Any,
) -> None:
    settings.CODE_ATTEMPTS_LIMIT = 10
    # Given a code the other hotel redeemed, one meant for it, and one about to expire
    used = code_for(citizen)
    assert redeem(other_hotel_api, used).status_code == 201
    meant = code_for(citizen, merchant=other_hotel)
    expiring = code_for(citizen)
    travel(timedelta(minutes=10))
    before = written()
    # When this hotel tries each, and a made-up one
    answers = [redeem(hotel_api, code).json() for code in (used, meant, expiring, "ABCDEFGH")]
    # Then each answer is the same code_invalid, word for word, and nothing is written
    assert answers[0]["code"] == "code_invalid"
    assert answers == [answers[0]] * 4
    assert written() == before
    # While the hotel that redeemed a code is told it is used
    again = redeem(other_hotel_api, used)
    assert (again.status_code, again.json()["code"]) == (422, "code_used")


# --- Codes -----------------------------------------------------------------------------


def test_after_the_limit_of_failed_codes_a_merchant_is_refused_even_a_right_one(
    citizen: User,
    hotel: Merchant,
    hotel_api: APIClient,
    caplog: pytest.LogCaptureFixture,
    travel: Callable[[timedelta], None],
) -> None:
    # Given the hotel failed LIMIT codes, by redeeming or asking for a decision
    assert [redeem(hotel_api, "ABCDEFGH").status_code for _ in range(LIMIT - 1)] == [422] * 2
    assert ask(hotel_api, "ABCDEFGH").status_code == 422
    good = code_for(citizen)
    # When it redeems a right code, from any address
    with caplog.at_level(logging.WARNING, logger="merchants.api.attempts"):
        refused = redeem(hotel_api, good, address="198.51.100.1")
        asked = ask(hotel_api, good, address="198.51.100.1")
    # Then it is refused before the code is tried, and the operator is told
    assert_limited(refused)
    assert_limited(asked)
    assert written() == {"codes_redeemed": 0, "consents": 0, "decisions": 0}
    [record, _] = [r for r in caplog.records if r.message == "code redemption attempts limited"]
    assert record.levelno == logging.WARNING
    assert (record.merchant_id, record.address) == (str(hotel.pk), "198.51.100.1")  # type: ignore[attr-defined]
    # When the window has passed
    travel(timedelta(seconds=WINDOW + 1))
    # Then the code (made again: ten minutes passed) redeems
    assert redeem(hotel_api, code_for(citizen), address="198.51.100.1").status_code == 201


def test_the_wait_told_is_what_is_left_of_the_window(
    hotel_api: APIClient, travel: Callable[[timedelta], None]
) -> None:
    for _ in range(LIMIT):
        redeem(hotel_api, "ABCDEFGH")
    travel(timedelta(seconds=200))
    response = redeem(hotel_api, "ABCDEFGH")
    assert_limited(response, at_most=WINDOW - 199)
    assert int(response["Retry-After"]) >= WINDOW - 210


def test_failed_codes_from_one_address_limit_every_merchant_there(
    citizen: User, hotel_api: APIClient, other_hotel_api: APIClient
) -> None:
    # Given LIMIT failures from one address, by two hotels
    redeem(hotel_api, "ABCDEFGH", address="192.0.2.9")
    redeem(other_hotel_api, "ABCDEFGH", address="192.0.2.9")
    redeem(other_hotel_api, "ABCDEFGH", address="192.0.2.9")
    # Then a third hotel's key from that address is refused too...
    assert_limited(redeem(hotel_api, code_for(citizen), address="192.0.2.9"))
    # ...while the first hotel, which failed once, redeems from elsewhere
    assert redeem(hotel_api, code_for(citizen), address="192.0.2.10").status_code == 201


def test_successful_and_malformed_codes_are_not_failures(
    citizen: User, hotel_api: APIClient
) -> None:
    for _ in range(LIMIT + 1):
        assert redeem(hotel_api, code_for(citizen)).status_code == 201
        assert redeem(hotel_api, "ABC").status_code == 400
    assert redeem(hotel_api, code_for(citizen)).status_code == 201


def test_with_the_cache_down_code_redemptions_fail_closed(
    citizen: User, hotel_api: APIClient, settings: Any
) -> None:
    # Given a cache that does not answer (a Redis that is stopped)
    with private_redis() as redis, override_settings(CACHES=redis_caches(redis.url)):
        cache_outage_reset()
        try:
            redis.stop()
            response = redeem(hotel_api, code_for(citizen))
        finally:
            cache_outage_reset()
    # Then a redemption answers 429 (with the outage's retry), never 500, and is not tried
    assert response.status_code == 429, response.content
    assert response["Retry-After"] == str(settings.THROTTLE_CACHE_OUTAGE_SECONDS)
    assert written()["consents"] == 0


@pytest.mark.slow
def test_the_counts_are_shared_through_the_redis_cache(
    citizen: User, hotel_api: APIClient, settings: Any
) -> None:
    # Given the shared cache on Redis, as production configures it
    with private_redis() as redis, override_settings(CACHES=redis_caches(redis.url)):
        cache_outage_reset()
        try:
            # When the hotel fails LIMIT codes
            for _ in range(LIMIT):
                assert redeem(hotel_api, "ABCDEFGH").status_code == 422
            # Then the counts are in Redis, and the next attempt is refused
            keys = redis.command("--scan").split()
            assert any(b"attempts:code:merchant:" in key for key in keys), keys
            assert any(b"attempts:code:address:203.0.113.7" in key for key in keys), keys
            assert_limited(redeem(hotel_api, code_for(citizen)))
        finally:
            cache_outage_reset()


# --- API keys --------------------------------------------------------------------------


def test_after_the_limit_of_failed_keys_an_address_is_refused_even_a_right_key(
    hotel_key: str, caplog: pytest.LogCaptureFixture, travel: Callable[[timedelta], None]
) -> None:
    wrong = merchant_client(hotel_key[:-4] + "AAAA")
    right = merchant_client(hotel_key)
    # Given LIMIT failed keys from one address
    for _ in range(LIMIT):
        response = wrong.get("/api/v1/merchant/payouts", REMOTE_ADDR="203.0.113.50")
        assert response.status_code == 401, response.content
    # When the right key is sent from there
    with caplog.at_level(logging.WARNING, logger="merchants.api.attempts"):
        refused = right.get("/api/v1/merchant/payouts", REMOTE_ADDR="203.0.113.50")
    # Then it is refused without being read; from another address it works
    assert_limited(refused)
    assert any(r.message == "api key attempts limited" for r in caplog.records)
    assert right.get("/api/v1/merchant/payouts", REMOTE_ADDR="203.0.113.51").status_code == 200
    # And once the window has passed, from the first address too
    travel(timedelta(seconds=WINDOW + 1))
    assert right.get("/api/v1/merchant/payouts", REMOTE_ADDR="203.0.113.50").status_code == 200


def test_a_revoked_key_counts_as_a_failure(hotel: Merchant) -> None:
    api_key, raw = services.api_key_create(merchant=hotel, name="old")
    services.api_key_revoke(api_key=api_key)
    client = merchant_client(raw)
    for _ in range(LIMIT):
        assert client.get("/api/v1/merchant/payouts").status_code == 401
    assert_limited(client.get("/api/v1/merchant/payouts"))


def test_requests_without_a_key_are_not_failures(hotel_api: APIClient) -> None:
    anonymous = APIClient()
    for _ in range(LIMIT + 1):
        assert anonymous.get("/api/v1/merchant/payouts").status_code == 401
    assert hotel_api.get("/api/v1/merchant/payouts").status_code == 200

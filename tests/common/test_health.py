"""Liveness and readiness probes: /readyz answers within its deadline whatever hangs."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from common import services
from common.models import BeatHeartbeat
from tests.concurrency import holding
from tests.private_redis import private_redis

# The probe's own timeout is 2 s; the answer must come well inside it.
WITHIN = 2.5


@pytest.mark.django_db
def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL=None)
def test_readyz_with_database_and_no_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok"}


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL=None)
def test_readyz_is_503_when_the_database_fails(client, monkeypatch):
    # The check runs on a connection of its own, in a thread of its own: make every
    # connection's cursor fail.
    def broken_cursor(*args, **kwargs):
        raise connection.OperationalError("database is down")

    monkeypatch.setattr(type(connection._connections["default"]), "cursor", broken_cursor)
    response = client.get("/readyz")
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unavailable"}
    assert response.json()["beat"]["status"] == "unknown"


@pytest.mark.django_db
def test_readyz_is_503_when_the_configured_broker_does_not_answer(client, settings):
    # Given a broker URL nobody listens on (a closed port on this machine)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unavailable"}


@pytest.mark.slow
@pytest.mark.django_db
def test_readyz_answers_in_time_with_the_broker_paused(client, settings):
    with private_redis() as redis:
        settings.CELERY_BROKER_URL = redis.url
        assert client.get("/readyz").json()["checks"]["broker"] == "ok"
        # Given the broker paused: it accepts connections and answers nothing
        redis.pause()
        # When the probe asks, twice (the second while the first check is still stuck)
        for _ in range(2):
            started = time.monotonic()
            response = client.get("/readyz")
            elapsed = time.monotonic() - started
            # Then it answers 503 within its deadline, naming the broker
            assert elapsed < WITHIN, elapsed
            assert response.status_code == 503
            assert response.json()["checks"] == {"database": "ok", "broker": "timeout"}
        # And once the broker is back, it is ready again (the stuck check has ended)
        redis.resume()
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "still not ready after the broker resumed"
            time.sleep(0.2)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(CELERY_BROKER_URL=None)
def test_readyz_answers_in_time_with_the_database_check_stuck(client):
    # Given another session holding a lock that the check's query waits for (its
    # lock_timeout, 3 s, is longer than the probe's deadline)
    table = BeatHeartbeat._meta.db_table
    with holding(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"):
        # When the probe asks
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    # Then it answers within its deadline that the database did not answer in time
    assert elapsed < WITHIN, elapsed
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "timeout"}


@pytest.mark.django_db(transaction=True)
@override_settings(CELERY_BROKER_URL=None)
def test_readyz_says_when_beat_last_ran_without_failing_on_it(client):
    # Never: ready all the same
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["beat"] == {
        "status": "never",
        "last_heartbeat_at": None,
        "age_seconds": None,
    }
    # A heartbeat 10 s ago: ok
    beaten = services.beat_heartbeat_record(now=timezone.now() - timedelta(seconds=10))
    beat = client.get("/readyz").json()["beat"]
    assert beat["status"] == "ok"
    assert beat["last_heartbeat_at"] == beaten.isoformat()
    assert 10 <= beat["age_seconds"] < 60
    # Ten minutes ago: late, and still ready (beat does not serve requests)
    services.beat_heartbeat_record(now=timezone.now() - timedelta(minutes=10))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["beat"]["status"] == "late"


@pytest.mark.broker
@pytest.mark.django_db
def test_readyz_checks_the_real_broker_when_configured(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}

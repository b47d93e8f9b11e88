"""PostgreSQL timeouts: every connection has them, a statement or a lock wait past them
is cancelled, and the API answers such a failure with a 503 problem, never a 500."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test import RequestFactory

from common.db import statement_timeout
from common.errors import server_error
from tests.concurrency import holding, other_session
from wallet.models import LedgerAccount

ROOT = Path(__file__).resolve().parent.parent.parent


def show(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_connection_has_the_configured_timeouts():
    # The web process's defaults (the test settings keep them but the idle one)
    assert settings.PROCESS_TYPE == "web"
    assert show("statement_timeout") == "10s"
    assert show("lock_timeout") == "3s"
    assert show("idle_in_transaction_session_timeout") == "10min"
    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 5


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_past_the_timeout_is_cancelled():
    with transaction.atomic(), statement_timeout(0.2):
        started = time.monotonic()
        with (
            pytest.raises(OperationalError, match="statement timeout"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_statement_timeout_is_for_the_block_only_and_needs_a_transaction():
    with pytest.raises(TransactionManagementError), statement_timeout(60):
        pass
    with transaction.atomic():
        with statement_timeout(600):
            assert show("statement_timeout") == "10min"
        # Put back when the block ends
        assert show("statement_timeout") == "10s"


@pytest.mark.postgres
@pytest.mark.slow
def test_the_environment_sets_the_timeouts_of_a_worker_and_they_cancel():
    # A worker process (PROCESS_TYPE=worker) with its statement timeout set to 1 s
    code = """
import time
import django
django.setup()
from django.db import OperationalError, connection
c = connection.cursor()
for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"):
    c.execute("SHOW " + name)
    print(name, c.fetchone()[0])
started = time.monotonic()
try:
    c.execute("SELECT pg_sleep(5)")
except OperationalError as error:
    print("cancelled", type(error.__cause__).__name__, round(time.monotonic() - started))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PROCESS_TYPE": "worker",
        "DB_STATEMENT_TIMEOUT": "1",
        "DEBUG": "1",
    }
    env.pop("DB_IDLE_IN_TRANSACTION_TIMEOUT", None)
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "statement_timeout 1s",
        "lock_timeout 10s",
        "idle_in_transaction_session_timeout 1min",
        "cancelled QueryCanceled 1",
    ]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db
def test_a_lock_wait_ends_at_the_lock_timeout():
    # Given another session holding an advisory lock
    with other_session() as other:
        other.execute("SELECT pg_advisory_lock(4242)")
        # When this connection waits for it
        started = time.monotonic()
        with (
            pytest.raises(OperationalError, match="lock timeout"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT pg_advisory_lock(4242)")
        # Then it gives up after the configured 3 s
        assert 2.9 <= time.monotonic() - started < 6


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_request_that_waits_past_the_lock_timeout_answers_503_and_changes_nothing(
    citizen, citizen_api, funded
):
    # Given a committed wallet, and another session holding its table locked
    wallet = funded(10_000)
    with holding(f"LOCK TABLE {LedgerAccount._meta.db_table} IN ACCESS EXCLUSIVE MODE"):
        # When the citizen tops up
        response = citizen_api.post(
            "/api/v1/me/top-ups", {"amount": 500}, HTTP_IDEMPOTENCY_KEY="locked-out"
        )
    # Then the answer is a 503 problem the client can retry, not a 500
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "temporarily_unavailable"
    # And nothing changed; the same key then tops up once
    wallet.refresh_from_db()
    assert wallet.balance == 10_000
    retry = citizen_api.post(
        "/api/v1/me/top-ups", {"amount": 500}, HTTP_IDEMPOTENCY_KEY="locked-out"
    )
    assert retry.status_code == 201, retry.json()
    wallet.refresh_from_db()
    assert wallet.balance == 10_500


def test_a_database_failure_outside_a_view_is_a_503_problem_under_the_api():
    request = RequestFactory().get("/api/v1/me/wallet")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "1"

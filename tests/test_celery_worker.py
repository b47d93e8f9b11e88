"""A real Celery worker on a real broker runs the project's tasks against the database.

The worker runs in a thread of this process with its own database connection, consuming
queues of its own so that it never picks up another run's messages. Every test runs on
Redis (``CELERY_BROKER_URL``) and on RabbitMQ (``CELERY_TEST_AMQP_URL``; skipped, with
the reason, when that is unset).
"""

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from config.celery_app import app
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import ScoreSnapshot, SnapshotTrigger
from tests.brokers import Broker, amqp_url, app_on, delete_queues, unique_suffix
from tests.money import top_up_paid
from wallet import services, tasks
from wallet.models import Hold, HoldStatus, LedgerAccount

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["redis", "amqp"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    url = str(settings.CELERY_BROKER_URL) if request.param == "redis" else amqp_url()
    broker = Broker(url=url, suffix=unique_suffix())
    try:
        with app_on(broker):
            yield broker
    finally:
        delete_queues(broker)


@pytest.fixture
def real_worker(broker: Broker) -> Iterator[Broker]:
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, queues=broker.queues, shutdown_timeout=30
        ):
            yield broker
    finally:
        connections.close_all()


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_worker_expires_a_due_hold_committed_before_the_task_ran(real_worker):
    # Given a committed wallet with a hold that expired a minute ago
    user = services.user_register(username="worker-test", password="correct-horse-battery")
    top_up_paid(user, 1_000)
    wallet = LedgerAccount.objects.get(user=user)
    hold = services.hold_place(
        account=wallet, amount=400, expires_at=timezone.now() - timedelta(minutes=1)
    )
    # When the periodic task is sent through the broker to the worker
    tasks.expire_due_holds.delay()
    # Then the worker expires it and gives the money back to the available balance
    assert wait_for(lambda: Hold.objects.get(pk=hold.pk).status == HoldStatus.EXPIRED)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (1_000, 0)


def test_an_event_recorded_in_a_committed_transaction_produces_a_new_snapshot(real_worker):
    # Given a citizen with a score
    user = services.user_register(username="worker-score", password="correct-horse-battery")
    scoring_services.score_current_ensure(account=user)
    # When an unpaid claim is recorded in a transaction that commits
    with transaction.atomic():
        scoring_services.record_event(
            account=user,
            kind=EventKinds.CLAIM_UNPAID,
            occurred_at=timezone.now(),
            source="claim:worker-test",
            amount=9_000,
        )
    # Then the worker, through the broker, writes the new snapshot
    assert wait_for(lambda: ScoreSnapshot.objects.filter(account=user).count() == 2)
    snapshot = scoring_selectors.score_current(account=user)
    assert (snapshot.score, snapshot.trigger) == (350, SnapshotTrigger.EVENT)
    assert snapshot.features["unpaid_claims"] == 1

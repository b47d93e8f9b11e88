"""Batches survive their workers: real worker processes killed with SIGKILL mid-chunk and
mid-``recompute_all`` (before it wrote its run, and after, while it sent the chunks to a
paused broker), and a chunk whose database work fails twice before it succeeds.

Each test runs on two brokers:

- ``redis``: a private ``redis-server`` the test starts. Redis hands an unacked message
  out again only after ``visibility_timeout``, so this run sets it to 10 s (and sweeps for
  such messages every second): the killed worker's message comes back to the next worker
  through the broker itself, which is what the test shows. (In production the timeout is
  20 min, and ``scoring.batch_watch`` resumes an overdue run sooner or as well.)
- ``amqp``: the RabbitMQ in ``CELERY_TEST_AMQP_URL``, with queue names of the test's own.
  RabbitMQ gives an unacked message back as soon as its consumer's connection closes.

The worker is a ``celery worker`` subprocess on the test database (``transaction=True``:
the data is committed, so it sees it). Faults are made with real contention, never mocks:
the test holds a PostgreSQL lock the task needs, and kills the worker while it waits.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection, connections
from django.db.models import Count, Q

from common.models import FailedTask
from scoring import services, tasks
from scoring.models import (
    BatchChunk,
    BatchChunkStatus,
    BatchRun,
    BatchRunStatus,
    Scorecard,
    ScorecardStatus,
    ScoreSnapshot,
    SnapshotTrigger,
)
from tests.brokers import (
    Broker,
    WorkerProcess,
    amqp_url,
    app_on,
    delete_queues,
    unique_suffix,
)
from tests.concurrency import holding
from tests.factories import UserFactory
from tests.private_redis import PrivateRedis, private_redis
from wallet.models import User

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

ACCOUNTS = 24


# A lost worker's message is handed out again 10 s after it was taken (swept every
# second): longer than any task here holds one (a retry's countdown and a lock wait).
SHORT_VISIBILITY = {
    "visibility_timeout": 10,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    with private_redis() as server:
        yield server


@pytest.fixture(params=["redis", "amqp"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        broker = Broker(url=server.url, suffix=unique_suffix(), transport_options=SHORT_VISIBILITY)
        with app_on(broker):
            yield broker
    else:
        broker = Broker(url=amqp_url(), suffix=unique_suffix())
        try:
            with app_on(broker):
                yield broker
        finally:
            delete_queues(broker)
    connections.close_all()


@pytest.fixture
def redis_broker(redis_server: PrivateRedis) -> Iterator[Broker]:
    """The private Redis alone, for a test that pauses it."""
    broker = Broker(
        url=redis_server.url, suffix=unique_suffix(), transport_options=SHORT_VISIBILITY
    )
    with app_on(broker):
        yield broker
    connections.close_all()


class Workers:
    """Starts workers on a broker; every one still running is stopped at the end (before
    the test database is flushed)."""

    def __init__(self, broker: Broker, log: Path) -> None:
        self.broker, self.log = broker, log
        self.started: list[WorkerProcess] = []

    def __call__(self, **env: str) -> WorkerProcess:
        worker = WorkerProcess(self.broker, self.log, env=env)
        self.started.append(worker)
        worker.start()
        return worker

    def stop(self) -> None:
        for worker in self.started:
            worker.stop()


@pytest.fixture
def workers(broker: Broker, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(broker, tmp_path / "worker.log")
    yield started
    started.stop()


@pytest.fixture
def redis_workers(redis_broker: Broker, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(redis_broker, tmp_path / "worker.log")
    yield started
    started.stop()


def wait_for(condition: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def backend_waiting_on_a_lock(table: str) -> int | None:
    """The pid of a server process of the test database waiting for a lock on ``table``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s AND pid <> pg_backend_pid()",
            [f"%{table}%"],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is None


def scored_accounts(count: int = ACCOUNTS) -> list[User]:
    users = [UserFactory.create() for _ in range(count)]
    for user in users:
        services.score_current_ensure(account=user)
    return users


def new_scorecard() -> Scorecard:
    v1 = Scorecard.objects.get(status=ScorecardStatus.ACTIVE)
    return services.scorecard_draft_create(
        name="Generous", definition={**v1.definition, "base_points": 450}
    )


def assert_every_account_once_on(scorecard: Scorecard, trigger: str) -> None:
    active = User.objects.filter(is_active=True).count()
    written = ScoreSnapshot.objects.filter(scorecard=scorecard, trigger=trigger)
    assert written.count() == active
    assert not written.values("account").annotate(n=Count("id")).filter(n__gt=1).exists()
    current = dict(
        ScoreSnapshot.objects.order_by("account_id", "-computed_at", "-id")
        .distinct("account_id")
        .values_list("account_id", "scorecard_id")
    )
    assert set(current.values()) == {scorecard.pk}
    assert len(current) == active


def test_a_worker_killed_mid_chunk_loses_nothing_and_writes_nothing_twice(settings, workers):
    # Given scored accounts, and a new scorecard activated while no worker runs: its run
    # is written and its 3 chunks are waiting on the broker
    settings.SCORING_BATCH_CHUNK_SIZE = 10
    scored_accounts()
    draft = new_scorecard()
    services.scorecard_activate(scorecard=draft)
    run = BatchRun.objects.get()
    assert run.chunks.count() == 3
    # When a worker takes a chunk and, its snapshots written but not committed, waits for
    # the run's row (the test holds it), and is killed with SIGKILL there
    with holding(f"SELECT 1 FROM scoring_batchrun WHERE id = {run.pk:d} FOR UPDATE"):  # noqa: S608
        first = workers(SCORING_BATCH_LOCK_TIMEOUT_MS="60000")
        wait_for(lambda: backend_waiting_on_a_lock("scoring_batchrun"), what="a chunk mid-way")
        stuck = backend_waiting_on_a_lock("scoring_batchrun")
        assert stuck is not None
        running = BatchChunk.objects.get(run=run, status=BatchChunkStatus.RUNNING)
        first.kill()
    # (the killed worker's transaction is rolled back: its server process ends)
    wait_for(lambda: backend_gone(stuck), what="the killed worker's connection to end")
    running.refresh_from_db()
    assert (running.status, running.attempts) == (BatchChunkStatus.RUNNING, 1)
    assert not ScoreSnapshot.objects.filter(scorecard=draft).exists()
    # and another worker starts
    workers()
    # Then the broker gives the killed chunk again, and the run completes
    wait_for(
        lambda: BatchRun.objects.get(pk=run.pk).status == BatchRunStatus.COMPLETE,
        what="the run to complete",
    )
    running.refresh_from_db()
    assert (running.status, running.attempts) == (BatchChunkStatus.DONE, 2)
    run.refresh_from_db()
    assert run.accounts_seen == run.accounts_expected == User.objects.filter(is_active=True).count()
    assert_every_account_once_on(draft, SnapshotTrigger.SCORECARD_ACTIVATION)
    assert not FailedTask.objects.exists()


def test_a_worker_killed_mid_recompute_all_loses_nothing(settings, workers):
    # Given accounts never scored
    settings.SCORING_BATCH_CHUNK_SIZE = 10
    users = UserFactory.create_batch(ACCOUNTS)
    assert not ScoreSnapshot.objects.exists()
    # When recompute_all is sent, and its worker is killed while it starts the run (it
    # waits for the batch-run table, which the test holds)
    with holding("LOCK TABLE scoring_batchrun IN EXCLUSIVE MODE"):
        sent = tasks.recompute_all.delay()
        first = workers()
        wait_for(lambda: backend_waiting_on_a_lock("scoring_batchrun"), what="recompute_all")
        stuck = backend_waiting_on_a_lock("scoring_batchrun")
        assert stuck is not None
        first.kill()
    wait_for(lambda: backend_gone(stuck), what="the killed worker's connection to end")
    assert not BatchRun.objects.exists()
    # and another worker starts
    workers()
    # Then the same message runs again: one run, keyed by its task id, complete
    wait_for(
        lambda: BatchRun.objects.filter(status=BatchRunStatus.COMPLETE).exists(),
        what="the run to complete",
    )
    run = BatchRun.objects.get()
    assert (run.key, run.accounts_seen) == (sent.id, len(users) + _others())
    assert_every_account_once_on(Scorecard.objects.get(status="active"), SnapshotTrigger.BATCH)
    assert not FailedTask.objects.exists()


def _others() -> int:
    """Active accounts the test did not create (a migration's, say)."""
    return User.objects.filter(is_active=True).exclude(username__startswith="citizen").count()


def test_a_worker_killed_after_recompute_all_wrote_its_run_resumes_that_run(
    settings, redis_server, redis_workers
):
    # Given accounts never scored
    settings.SCORING_BATCH_CHUNK_SIZE = 10
    UserFactory.create_batch(ACCOUNTS)
    # When recompute_all runs, writes its run and its chunks, and its worker is killed
    # while it sends the chunks (the broker is paused: the test stops its own Redis with
    # SIGSTOP while the run's chunks wait for a table the test holds, then lets them go)
    with holding("LOCK TABLE scoring_batchchunk IN EXCLUSIVE MODE"):
        sent = tasks.recompute_all.delay()
        first = redis_workers()
        wait_for(lambda: backend_waiting_on_a_lock("scoring_batchchunk"), what="the chunks")
        redis_server.process.send_signal(signal.SIGSTOP)
    try:
        wait_for(lambda: BatchRun.objects.exists(), what="the run to be committed")
        first.kill()
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    run = BatchRun.objects.get()
    assert run.key == sent.id
    assert not run.chunks.filter(status=BatchChunkStatus.DONE).exists()
    # and another worker starts
    redis_workers()
    # Then the same recompute_all runs again and resumes its run: it sends the chunks
    # that are not done; one run, complete, one snapshot per account
    wait_for(
        lambda: BatchRun.objects.get(pk=run.pk).status == BatchRunStatus.COMPLETE,
        what="the run to complete",
    )
    run.refresh_from_db()
    assert (BatchRun.objects.count(), run.resumes) == (1, 1)
    assert_every_account_once_on(Scorecard.objects.get(status="active"), SnapshotTrigger.BATCH)
    assert not FailedTask.objects.exists()


def test_a_chunk_that_fails_twice_is_retried_recorded_and_completes(settings, workers):
    # Given a run of one chunk whose settling needs the run's row, which the test holds
    settings.SCORING_BATCH_CHUNK_SIZE = 1_000
    scored_accounts()
    draft = new_scorecard()
    services.scorecard_activate(scorecard=draft)
    run = BatchRun.objects.get()
    chunk = run.chunks.get()
    with holding(f"SELECT 1 FROM scoring_batchrun WHERE id = {run.pk:d} FOR UPDATE"):  # noqa: S608
        # When a worker runs it with a 2 s lock timeout: two attempts time out (the third
        # may already be waiting: a retry's countdown, drawn with jitter, can be 0 s)
        workers(SCORING_BATCH_LOCK_TIMEOUT_MS="2000")
        wait_for(
            lambda: BatchChunk.objects.filter(
                Q(attempts=2, status=BatchChunkStatus.FAILED) | Q(attempts=3), pk=chunk.pk
            ).exists(),
            what="two failed attempts",
        )
    # and then the lock is released
    wait_for(
        lambda: BatchRun.objects.get(pk=run.pk).status == BatchRunStatus.COMPLETE,
        what="the run to complete",
    )
    # Then the third attempt succeeded: retried, each attempt recorded, nothing dead
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts) == (BatchChunkStatus.DONE, 3)
    assert "lock timeout" in chunk.last_error
    assert_every_account_once_on(draft, SnapshotTrigger.SCORECARD_ACTIVATION)
    assert not FailedTask.objects.exists()

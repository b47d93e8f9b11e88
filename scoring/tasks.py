"""Scoring's Celery tasks: thin wrappers, ids in, one service call each, idempotent.

Per-account work runs on the ``scoring`` queue; the batch (``recompute_all`` and its
chunks) on ``scoring-batch``, so that a night's chunks never delay the recompute that
follows a citizen's payment; the rest on ``celery`` (``CELERY_TASK_ROUTES``). Every task
acks late and retries database errors (``config.celery_app.ProjectTask``).
"""

import logging
import os
import threading
import time
from collections.abc import Sequence

from celery import Task, shared_task
from django.conf import settings

from scoring import services
from scoring.models import SnapshotTrigger

logger = logging.getLogger(__name__)


@shared_task(name="scoring.recompute_account", acks_late=True, reject_on_worker_lost=True)
def recompute_account(account_id: int, trigger: str = SnapshotTrigger.EVENT) -> bool:
    """Recompute one account now; writes nothing if its score would not change. Nothing
    sends it any more (the outbox's relay recomputes after events); kept so that the
    messages queued by the previous release still run after a deploy."""
    return services.score_recompute(account_id=account_id, trigger=trigger)


@shared_task(name="scoring.relay_recomputes", acks_late=True, reject_on_worker_lost=True)
def relay_recomputes() -> int:
    """Drain the recompute outbox (``services.recomputes_relay``): run by beat every few
    seconds and kicked after each commit that wants a recompute. Returns the number of
    accounts recomputed."""
    return services.recomputes_relay(
        chunk=settings.SCORING_RELAY_CHUNK, budget=settings.SCORING_RELAY_BUDGET_SECONDS
    ).accounts


class _Kicker:
    """Publishes ``relay_recomputes`` from a thread of its own, so that a request never
    waits for the broker (down, it refuses at once; paused, it would hold a publish
    until the socket times out). Kicks coalesce: while one is being published, the next
    ones make one more. Best effort: the periodic relay drains whatever a lost kick
    leaves."""

    def __init__(self) -> None:
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def kick(self) -> None:
        self._wanted.set()
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:  # one thread per process (a forked child starts its own)
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="scoring-relay-kicker", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                relay_recomputes.apply_async(
                    retry=False, expires=settings.SCORING_RELAY_KICK_EXPIRES
                )
            except Exception:  # the broker is down: the periodic relay will do it
                logger.warning("outbox relay not kicked: broker unavailable", exc_info=True)
            time.sleep(settings.SCORING_RELAY_KICK_INTERVAL)  # a burst makes one kick


_kicker = _Kicker()


def relay_kick() -> None:
    """After a commit that wants a recompute: ask for the relay, never failing or
    waiting. Without a broker (eager mode: the demo, most tests) the relay runs here."""
    if relay_recomputes.app.conf.task_always_eager:
        relay_recomputes.apply()
        return
    _kicker.kick()


@shared_task(name="scoring.recompute_chunk", acks_late=True, reject_on_worker_lost=True)
def recompute_chunk(chunk_id: int) -> int:
    """One chunk (an id range) of a batch run, as of the run's moment; nothing if done."""
    return services.batch_chunk_run(chunk_id=chunk_id)


@shared_task(bind=True, name="scoring.recompute_all", acks_late=True, reject_on_worker_lost=True)
def recompute_all(self: Task, trigger: str = SnapshotTrigger.BATCH) -> int:
    """Start a batch run of every account, all as of one moment (so that running the
    batch twice gives the same scores), and send its chunks. Keyed by this task's id: run
    again after its worker was lost, it sends the same run's unfinished chunks.
    Returns the number of chunks sent."""
    _, chunk_ids = services.batch_run_start(trigger=trigger, key=self.request.id)
    batch_chunks_send(chunk_ids)
    return len(chunk_ids)


@shared_task(name="scoring.batch_watch", acks_late=True, reject_on_worker_lost=True)
def batch_watch() -> int:
    """Resume the runs past their deadline (an error in the log); returns chunks sent."""
    chunk_ids = services.batches_watch()
    batch_chunks_send(chunk_ids)
    return len(chunk_ids)


def batch_chunks_send(chunk_ids: Sequence[int]) -> None:
    """Send a chunk task for each chunk, after the commit that wrote the chunks."""
    for chunk_id in chunk_ids:
        recompute_chunk.delay(chunk_id)


@shared_task(name="scoring.uphold_stale_disputes", acks_late=True, reject_on_worker_lost=True)
def uphold_stale_disputes() -> int:
    return services.disputes_uphold_stale()

"""Scoring's Celery tasks: thin wrappers, ids in, one service call each, idempotent.

They run on the ``scoring`` queue (``CELERY_TASK_ROUTES``).
"""

import logging
import os
import threading
import time
from datetime import datetime

from celery import group, shared_task
from django.conf import settings
from django.utils import timezone

from scoring import selectors, services
from scoring.models import SnapshotTrigger

logger = logging.getLogger(__name__)


@shared_task(name="scoring.recompute_account", acks_late=True, reject_on_worker_lost=True)
def recompute_account(account_id: int, trigger: str = SnapshotTrigger.EVENT) -> bool:
    """Recompute one account now; writes nothing if its score would not change."""
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
def recompute_chunk(first_id: int, last_id: int, at: str, trigger: str) -> int:
    """One id range of the batch, as of the batch's moment ``at`` (ISO 8601)."""
    return services.scores_recompute(
        first_id=first_id, last_id=last_id, trigger=trigger, at=datetime.fromisoformat(at)
    )


@shared_task(name="scoring.recompute_all")
def recompute_all(trigger: str = SnapshotTrigger.BATCH) -> int:
    """Split every account into id ranges and recompute them as a group of chunk tasks,
    all as of one moment (so that running the batch twice gives the same scores).
    Returns the number of chunks."""
    at = timezone.now().isoformat()
    chunks = selectors.account_id_chunks(size=settings.SCORING_BATCH_CHUNK_SIZE)
    group(recompute_chunk.si(first, last, at, trigger) for first, last in chunks).apply_async()
    return len(chunks)


@shared_task(name="scoring.uphold_stale_disputes", acks_late=True, reject_on_worker_lost=True)
def uphold_stale_disputes() -> int:
    return services.disputes_uphold_stale()

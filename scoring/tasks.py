"""Scoring's Celery tasks: thin wrappers, ids in, one service call each, idempotent.

Per-account work runs on the ``scoring`` queue; the batch (``recompute_all`` and its
chunks) on ``scoring-batch``, so that a night's chunks never delay the recompute that
follows a citizen's payment; the rest on ``celery`` (``CELERY_TASK_ROUTES``). Every task
acks late and retries database errors (``config.celery_app.ProjectTask``).
"""

import logging
from collections.abc import Sequence

from celery import Task, shared_task
from django.conf import settings

from common.kick import Kicker
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


_kicker = Kicker(
    relay_recomputes,
    expires=lambda: settings.OUTBOX_KICK_EXPIRES,
    interval=lambda: settings.OUTBOX_KICK_INTERVAL,
)


def relay_kick() -> None:
    """After a commit that wants a recompute: ask for the relay, never failing or
    waiting. Without a broker (eager mode: the demo, most tests) the relay runs here."""
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


@shared_task(name="scoring.remove_unanswered_disputes", acks_late=True, reject_on_worker_lost=True)
def remove_unanswered_disputes() -> int:
    """Remove the records whose furnisher did not answer their dispute by its
    ``respond_by``; returns how many. Idempotent: safe to run twice or in parallel."""
    return services.disputes_remove_unanswered()


@shared_task(name="scoring.uphold_stale_disputes", acks_late=True, reject_on_worker_lost=True)
def uphold_stale_disputes() -> int:
    """The 30-day auto-uphold's name, kept for the beat entries and messages of the
    previous release (an existing beat entry is never rewritten): it now does what
    replaced it, removing only disputes their furnisher did not answer in time."""
    return services.disputes_remove_unanswered()

"""Scoring's Celery tasks: thin wrappers, ids in, one service call each, idempotent.

They run on the ``scoring`` queue (``CELERY_TASK_ROUTES``).
"""

from datetime import datetime

from celery import group, shared_task
from django.conf import settings
from django.utils import timezone

from scoring import selectors, services
from scoring.models import SnapshotTrigger


@shared_task(name="scoring.recompute_account", acks_late=True, reject_on_worker_lost=True)
def recompute_account(account_id: int, trigger: str = SnapshotTrigger.EVENT) -> bool:
    """Recompute one account now; writes nothing if its score would not change."""
    return services.score_recompute(account_id=account_id, trigger=trigger)


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

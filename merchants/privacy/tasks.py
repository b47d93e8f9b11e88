"""The privacy app's Celery tasks: thin wrappers, one service call each, idempotent."""

from celery import shared_task

from merchants.privacy import retention


@shared_task(name="privacy.retention_run", acks_late=True, reject_on_worker_lost=True)
def retention_run() -> dict[str, int]:
    """Delete what the retention schedule says is past its period; safe to run twice."""
    return retention.retention_run()

"""The merchants app's Celery tasks: thin wrappers, one service call each, idempotent."""

from celery import shared_task

from merchants import services


@shared_task(
    name="merchants.uphold_stale_claim_disputes", acks_late=True, reject_on_worker_lost=True
)
def uphold_stale_claim_disputes() -> int:
    """Uphold (cancel and refund) every claim dispute nobody resolved within 30 days."""
    return services.claim_disputes_uphold_stale()


@shared_task(name="merchants.record_overdue_bills", acks_late=True, reject_on_worker_lost=True)
def record_overdue_bills() -> int:
    """Record "bill overdue" once for each bill left unpaid past its due date."""
    return services.bills_record_overdue()

"""The bills app's Celery tasks: thin wrappers, one service call each, idempotent.
Their names are kept from when they lived in ``merchants``: the beat schedule stored in
the database refers to them by name."""

from celery import shared_task

from merchants.bills import services


@shared_task(name="merchants.record_overdue_bills", acks_late=True, reject_on_worker_lost=True)
def record_overdue_bills() -> int:
    """Record "bill overdue" once for each bill left unpaid past its due date."""
    return services.bills_record_overdue()

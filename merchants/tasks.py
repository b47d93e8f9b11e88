"""The merchants app's Celery tasks: thin wrappers, one service call each, idempotent."""

from celery import shared_task

from merchants import services


@shared_task(name="merchants.pay_out_settlements", acks_late=True, reject_on_worker_lost=True)
def pay_out_settlements() -> dict[str, int]:
    """Pay out every merchant's settlement balance at or above the threshold; safe to
    run twice (a payout empties the balance it pays)."""
    return services.settlements_pay_out().as_dict()

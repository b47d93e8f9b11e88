"""The perks app's Celery tasks: thin wrappers, one service call each, idempotent.
Their names are kept from when they lived in ``merchants``: the beat schedule stored in
the database refers to them by name."""

from celery import shared_task

from merchants.perks import services


@shared_task(name="perks.place_due_holds", acks_late=True, reject_on_worker_lost=True)
def place_due_holds() -> int:
    """Hold the deposits of bookings whose check-in is at most two days away, each
    booking in its own transaction (``hold_failed`` where the wallet cannot cover it)."""
    return services.bookings_place_due_holds()


@shared_task(
    name="merchants.uphold_stale_claim_disputes", acks_late=True, reject_on_worker_lost=True
)
def uphold_stale_claim_disputes() -> int:
    """Uphold (cancel and refund) every claim dispute nobody resolved within 30 days."""
    return services.claim_disputes_uphold_stale()

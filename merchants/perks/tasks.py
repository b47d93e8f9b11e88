"""The perks app's Celery tasks: thin wrappers, one service call each, idempotent."""

from celery import shared_task

from merchants.perks import claims, services


@shared_task(name="perks.place_due_holds", acks_late=True, reject_on_worker_lost=True)
def place_due_holds() -> int:
    """Hold the deposits of bookings whose check-in is at most two days away, each
    booking in its own transaction (``hold_failed`` where the wallet cannot cover it)."""
    return services.bookings_place_due_holds()


@shared_task(name="perks.charge_unanswered_claims", acks_late=True, reject_on_worker_lost=True)
def charge_unanswered_claims() -> int:
    """Charge, as accepted, every claim its guest left unanswered past ``respond_by``."""
    return claims.claims_charge_unanswered()

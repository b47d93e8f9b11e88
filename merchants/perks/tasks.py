"""The perks app's Celery tasks: thin wrappers, one service call each, idempotent."""

from celery import shared_task

from merchants.perks import claims


@shared_task(name="perks.charge_unanswered_claims", acks_late=True, reject_on_worker_lost=True)
def charge_unanswered_claims() -> int:
    """Charge, as accepted, every claim its guest left unanswered past ``respond_by``."""
    return claims.claims_charge_unanswered()

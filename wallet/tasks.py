"""Periodic wallet work. Thin wrappers: each calls one service and is idempotent."""

from celery import shared_task

from wallet import services


@shared_task(name="wallet.expire_due_holds", acks_late=True, reject_on_worker_lost=True)
def expire_due_holds() -> int:
    """Expire active holds past their expiry; safe to run twice or in parallel."""
    return services.holds_expire_due()


# The payments' tasks live beside their services; importing them here registers them with
# the autodiscovery that looks for each app's ``tasks`` module.
from wallet.payments import tasks as payments_tasks  # noqa: E402, F401

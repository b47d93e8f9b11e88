"""Payments' Celery tasks: thin wrappers, one service call each, idempotent."""

from celery import shared_task
from django.conf import settings

from common.kick import Kicker
from wallet.payments import reconciliation, services


@shared_task(name="payments.expire_top_ups", acks_late=True, reject_on_worker_lost=True)
def expire_top_ups() -> int:
    """Expire pending top-ups past their time; safe to run twice or in parallel."""
    return services.top_ups_expire_due()


@shared_task(name="payments.send_payouts", acks_late=True, reject_on_worker_lost=True)
def send_payouts() -> int:
    """The payouts' outbox relay: ask the provider to pay what is pending and unsent."""
    return services.payouts_send()


@shared_task(name="payments.reconcile", acks_late=True, reject_on_worker_lost=True)
def reconcile() -> str:
    """The daily reconciliation; returns the report's id."""
    return str(reconciliation.reconcile().pk)


_kicker = Kicker(
    send_payouts,
    expires=lambda: settings.OUTBOX_KICK_EXPIRES,
    interval=lambda: settings.OUTBOX_KICK_INTERVAL,
)


def payouts_kick() -> None:
    """After a payout commits: send it now, never failing or waiting on the broker (in
    eager mode, the demo and most tests, right here). The periodic relay sends whatever a
    lost kick leaves."""
    _kicker.kick()

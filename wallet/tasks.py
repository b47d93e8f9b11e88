"""Periodic wallet work. Thin wrappers: each calls one service and is idempotent."""

from celery import shared_task

from wallet import accounts, services


@shared_task(name="wallet.expire_due_holds", acks_late=True, reject_on_worker_lost=True)
def expire_due_holds() -> int:
    """Expire active holds past their expiry; safe to run twice or in parallel."""
    return services.holds_expire_due()


@shared_task(name="wallet.account_email", acks_late=True, reject_on_worker_lost=True)
def account_email(user_id: int, kind: str) -> bool:
    """Send an account e-mail (verification link, password reset). Run twice, it sends
    twice: a second copy of a link is harmless, a lost one is not."""
    return accounts.account_email_send(user_id=user_id, kind=kind)


# The payments' tasks live beside their services; importing them here registers them with
# the autodiscovery that looks for each app's ``tasks`` module.
from wallet.payments import tasks as payments_tasks  # noqa: E402, F401

"""Periodic work of the shared plumbing. Thin wrappers: each calls one service and is
idempotent. Task names are kept from where the tasks were first defined: the beat
schedule stored in the database refers to them by name."""

from celery import shared_task

from common import services


@shared_task(name="wallet.prune_idempotency_keys", acks_late=True, reject_on_worker_lost=True)
def prune_idempotency_keys() -> int:
    return services.idempotency_keys_prune()


@shared_task(name="common.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    services.beat_heartbeat_record()

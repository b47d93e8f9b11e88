"""The Celery set-up: eager without a broker, every scheduled task registered, routing."""

import pytest
from django.conf import settings

from config.celery_app import app


def test_every_periodic_task_in_the_schedule_is_registered():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "wallet.expire_due_holds",
        "wallet.prune_idempotency_keys",
        "scoring.recompute_all",
        "scoring.relay_recomputes",
        "scoring.uphold_stale_disputes",
        "merchants.uphold_stale_claim_disputes",
        "merchants.record_overdue_bills",
    }
    assert scheduled <= set(app.tasks)


def test_tasks_are_json_only_and_idempotent_tasks_ack_late():
    app.loader.import_default_modules()
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    for name in (
        "wallet.expire_due_holds",
        "wallet.prune_idempotency_keys",
        "scoring.recompute_account",
        "scoring.recompute_chunk",
        "scoring.uphold_stale_disputes",
        "merchants.uphold_stale_claim_disputes",
        "merchants.record_overdue_bills",
    ):
        task = app.tasks[name]
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True


def test_scoring_tasks_are_routed_to_the_scoring_queue():
    assert settings.CELERY_TASK_ROUTES == {"scoring.*": {"queue": "scoring"}}
    app.loader.import_default_modules()
    for name in ("scoring.recompute_account", "scoring.recompute_chunk", "scoring.recompute_all"):
        route = app.amqp.router.route({}, name)
        assert route["queue"].name == "scoring"


@pytest.mark.django_db
def test_eager_periodic_task_runs_its_service(citizen):
    from datetime import timedelta

    from django.utils import timezone

    from wallet import services, tasks
    from wallet.models import HoldStatus, LedgerAccount

    services.top_up_create(user=citizen, amount=100)
    wallet = LedgerAccount.objects.get(user=citizen)
    hold = services.hold_place(
        account=wallet, amount=100, expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert tasks.expire_due_holds.delay().get() == 1
    hold.refresh_from_db()
    assert hold.status == HoldStatus.EXPIRED
    assert tasks.expire_due_holds.delay().get() == 0

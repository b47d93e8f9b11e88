"""The Celery set-up: eager without a broker, every scheduled task registered, routing,
acking late and retrying database errors."""

import pytest
from django.conf import settings

from config.celery_app import app
from config.schedule import PERIODIC_TASKS
from tests.money import top_up_paid


def test_every_periodic_task_in_the_schedule_is_registered():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in PERIODIC_TASKS.values()}
    assert scheduled == {
        "common.beat_heartbeat",
        "wallet.expire_due_holds",
        "wallet.prune_idempotency_keys",
        "payments.expire_top_ups",
        "payments.send_payouts",
        "payments.reconcile",
        "scoring.recompute_all",
        "scoring.batch_watch",
        "scoring.relay_recomputes",
        "scoring.remove_unanswered_disputes",
        "perks.charge_unanswered_claims",
        "merchants.record_overdue_bills",
        "merchants.pay_out_settlements",
        "perks.place_due_holds",
        "privacy.retention_run",
        "console.relay_webhook_events",
        "console.deliver_webhooks",
        "governance.audit_live",
        "governance.drift_live",
        "governance.analysis_runs_watch",
    }
    assert scheduled <= set(app.tasks)


def _project_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_tasks_are_json_only_and_every_task_acks_late_and_retries_database_errors():
    from django.db import InterfaceError, OperationalError

    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert (app.conf.task_acks_late, app.conf.task_reject_on_worker_lost) == (True, True)
    names = _project_tasks()
    assert {
        "wallet.expire_due_holds",
        "wallet.prune_idempotency_keys",
        "scoring.recompute_account",
        "scoring.recompute_chunk",
        "scoring.recompute_all",
        "scoring.batch_watch",
        "scoring.remove_unanswered_disputes",
        "scoring.uphold_stale_disputes",
        "perks.charge_unanswered_claims",
        "merchants.record_overdue_bills",
        "merchants.pay_out_settlements",
        "perks.place_due_holds",
    } <= set(names)
    for name in names:
        task = app.tasks[name]
        assert task.acks_late is True, name
        assert task.reject_on_worker_lost is True, name
        assert set(task.autoretry_for) == {OperationalError, InterfaceError}, name
        assert (task.retry_backoff, task.retry_jitter, task.max_retries) == (1, True, 5), name
        assert task.retry_backoff_max == 60, name


def test_the_visibility_timeout_outlasts_the_longest_task_and_its_retry_countdown():
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout > settings.CELERY_TASK_TIME_LIMIT + 60


def test_the_three_queues_are_declared_durable():
    queues = {queue.name: queue for queue in app.conf.task_queues}
    assert set(queues) == {"celery", "scoring", "scoring-batch"}
    assert all(queue.durable for queue in queues.values())


@pytest.mark.parametrize(
    ("name", "queue"),
    [
        ("scoring.recompute_account", "scoring"),
        ("scoring.relay_recomputes", "scoring"),
        ("scoring.recompute_all", "scoring-batch"),
        ("scoring.recompute_chunk", "scoring-batch"),
        ("scoring.batch_watch", "celery"),
        ("scoring.remove_unanswered_disputes", "celery"),
        ("scoring.uphold_stale_disputes", "celery"),
        ("wallet.expire_due_holds", "celery"),
        ("merchants.record_overdue_bills", "celery"),
    ],
)
def test_per_account_work_and_the_batch_have_their_own_queues(name, queue):
    app.loader.import_default_modules()
    assert app.amqp.router.route({}, name)["queue"].name == queue


def test_the_procfile_worker_consumes_every_queue():
    from pathlib import Path

    procfile = (Path(settings.BASE_DIR) / "Procfile").read_text()
    assert "--queues celery,scoring,scoring-batch " in procfile


@pytest.mark.django_db
def test_eager_periodic_task_runs_its_service(citizen):
    from datetime import timedelta

    from django.utils import timezone

    from wallet import services, tasks
    from wallet.models import HoldStatus, LedgerAccount

    top_up_paid(citizen, 100)
    wallet = LedgerAccount.objects.get(user=citizen)
    hold = services.hold_place(
        account=wallet, amount=100, expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert tasks.expire_due_holds.delay().get() == 1
    hold.refresh_from_db()
    assert hold.status == HoldStatus.EXPIRED
    assert tasks.expire_due_holds.delay().get() == 0

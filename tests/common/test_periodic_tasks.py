"""Periodic tasks: code defines the defaults once (config.schedule); beat writes only the
missing ones, so an admin's changes survive restarts; beat's heartbeat.

Beat's scheduler closes connections it finds inside a transaction (close_old_connections),
so the tests that start it commit as beat does (transactional tests)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from common import selectors, services, tasks
from config.beat import Scheduler
from config.celery_app import app
from config.schedule import PERIODIC_TASKS

EXPIRE_HOLDS = "wallet: expire holds past their expiry"


def retime(name: str, *, minutes: int) -> None:
    """What an admin does under Periodic tasks: a new interval for an entry."""
    every, _ = IntervalSchedule.objects.get_or_create(
        every=minutes, period=IntervalSchedule.MINUTES
    )
    task = PeriodicTask.objects.get(name=name)
    task.interval = every
    task.save()


def interval_of(name: str) -> tuple[int, str]:
    interval = PeriodicTask.objects.get(name=name).interval
    assert interval is not None
    return interval.every, interval.period


@pytest.mark.django_db(transaction=True)
def test_beat_start_writes_the_defaults_once():
    # A new database: beat's start writes every default
    Scheduler(app=app)
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= set(PERIODIC_TASKS)
    heartbeat = PeriodicTask.objects.get(name="common: beat heartbeat")
    assert (heartbeat.task, heartbeat.expire_seconds) == ("common.beat_heartbeat", 30)
    assert (heartbeat.interval.every, heartbeat.interval.period) == (30, "seconds")
    # And again: nothing new
    count = PeriodicTask.objects.count()
    assert services.periodic_tasks_sync(defaults=PERIODIC_TASKS) == []
    assert PeriodicTask.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_an_admins_retiming_survives_a_beat_restart():
    # Given the defaults written, and an admin who re-timed an entry and paused another
    Scheduler(app=app)
    retime(EXPIRE_HOLDS, minutes=5)
    PeriodicTask.objects.filter(name="wallet: prune old idempotency keys").update(enabled=False)
    # When beat starts again (and the sync command runs, as a deploy does)
    Scheduler(app=app)
    services.periodic_tasks_sync(defaults=PERIODIC_TASKS)
    # Then the admin's changes are still there
    assert interval_of(EXPIRE_HOLDS) == (5, "minutes")
    assert not PeriodicTask.objects.get(name="wallet: prune old idempotency keys").enabled


@pytest.mark.django_db(transaction=True)
def test_a_deleted_default_comes_back_and_nothing_else_changes():
    Scheduler(app=app)
    retime(EXPIRE_HOLDS, minutes=5)
    PeriodicTask.objects.filter(name="common: beat heartbeat").delete()
    assert services.periodic_tasks_sync(defaults=PERIODIC_TASKS) == ["common: beat heartbeat"]
    assert interval_of(EXPIRE_HOLDS) == (5, "minutes")


@pytest.mark.django_db(transaction=True)
def test_django_celery_beats_own_start_would_undo_the_admins_change(settings):
    # The negative control: the library's scheduler with the defaults in
    # CELERY_BEAT_SCHEDULE (as settings had them) writes them over the admin's change.
    Scheduler(app=app)
    retime(EXPIRE_HOLDS, minutes=5)
    schedule = app.conf.beat_schedule
    app.conf.beat_schedule = PERIODIC_TASKS
    try:
        DatabaseScheduler(app=app)
    finally:
        app.conf.beat_schedule = schedule
    assert interval_of(EXPIRE_HOLDS) == (60, "seconds")


def test_beat_schedule_setting_is_empty_and_beat_uses_the_scheduler_that_keeps_edits(settings):
    assert settings.CELERY_BEAT_SCHEDULE == {}
    assert settings.CELERY_BEAT_SCHEDULER == "config.beat:Scheduler"


@pytest.mark.django_db
def test_the_sync_command_reports_what_it_created(capsys):
    from django.core.management import call_command

    call_command("sync_periodic_tasks")
    first = capsys.readouterr().out
    assert f"{len(PERIODIC_TASKS)} created, 0 already there" in first
    call_command("sync_periodic_tasks")
    assert f"0 created, {len(PERIODIC_TASKS)} already there" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_heartbeat_task_records_when_it_ran(travel):
    assert selectors.beat_last_heartbeat() is None
    tasks.beat_heartbeat.delay()
    first = selectors.beat_last_heartbeat()
    assert first is not None
    assert abs((timezone.now() - first).total_seconds()) < 5
    travel(timedelta(seconds=30))
    tasks.beat_heartbeat.delay()
    second = selectors.beat_last_heartbeat()
    assert second is not None
    assert second - first >= timedelta(seconds=30)

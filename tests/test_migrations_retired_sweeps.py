"""``perks/0006_retire_thirty_day_sweeps``: the beat entries of the two 30-day
auto-uphold sweeps are deleted; every other entry, an admin's included, stays."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_celery_beat.models import IntervalSchedule, PeriodicTask

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE = [("perks", "0005_bounded_powers")]
AFTER = [("perks", "0006_retire_thirty_day_sweeps")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


def test_the_thirty_day_sweeps_beat_entries_are_deleted_and_nothing_else() -> None:
    # Given a deployment of the previous release: both sweeps scheduled, and an admin's
    # own entry beside them
    migrate(BEFORE)
    every_day = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    for name, task in (
        ("scoring: uphold disputes open for 30 days", "scoring.uphold_stale_disputes"),
        (
            "merchants: uphold claim disputes open for 30 days",
            "merchants.uphold_stale_claim_disputes",
        ),
        ("an admin's own", "scoring.relay_recomputes"),
    ):
        PeriodicTask.objects.create(name=name, task=task, interval=every_day)

    # When the migration runs
    migrate(AFTER)

    # Then only the admin's entry is left
    assert list(PeriodicTask.objects.values_list("name", "task")) == [
        ("an admin's own", "scoring.relay_recomputes")
    ]
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

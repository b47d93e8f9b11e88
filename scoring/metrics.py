"""Prometheus metrics of scores, read from the database at scrape time
(``common.metrics``; served by ``/metrics``).

- ``open_sesame_scores_stale_accounts``: accounts whose latest snapshot is older than
  their latest credit event (or that have events and no snapshot): scores that do not
  yet reflect what happened. Waiting recomputes keep it above 0 for seconds; a value
  that stays up means recomputes are not happening.
- ``open_sesame_outbox_depth`` and ``open_sesame_outbox_oldest_age_seconds``: recomputes
  wanted and not yet done, and how long the oldest has waited.
- ``open_sesame_batch_*``: the latest nightly batch run, whether it is complete, and
  runs past their deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from common.metrics import PREFIX, DatabaseCollector
from scoring.models import (
    BatchRun,
    BatchRunStatus,
    CreditEvent,
    RecomputeWanted,
    ScoreSnapshot,
)


def stale_accounts_count() -> int:
    """Accounts with a credit event recorded after their latest snapshot was computed,
    or with events and no snapshot at all. One statement (the snapshots' index on
    account and computed_at answers each NOT EXISTS)."""
    events = CreditEvent._meta.db_table
    snapshots = ScoreSnapshot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM (
                SELECT account_id, max(recorded_at) AS last_event
                FROM {events} GROUP BY account_id
            ) AS latest
            WHERE NOT EXISTS (
                SELECT 1 FROM {snapshots} AS s
                WHERE s.account_id = latest.account_id AND s.computed_at >= latest.last_event
            )
            """  # noqa: S608 - table names from the models, no input
        )
        return int(cursor.fetchone()[0])


def outbox_state() -> tuple[int, float | None]:
    """(rows waiting, age in seconds of the oldest) of the recompute outbox."""
    row = RecomputeWanted.objects.aggregate(depth=Count("pk"), oldest=Min("first_wanted_at"))
    oldest = row["oldest"]
    return row["depth"], (timezone.now() - oldest).total_seconds() if oldest else None


def batch_state() -> dict[str, float]:
    """The latest batch run's completeness, and how many runs are overdue."""
    run_model = BatchRun
    now = timezone.now()
    state: dict[str, float] = {
        "overdue": run_model.objects.filter(
            status=BatchRunStatus.RUNNING, deadline__lt=now
        ).count(),
    }
    latest = run_model.objects.order_by("-created_at", "-id").first()
    if latest is not None:
        state["complete"] = 1.0 if latest.status == BatchRunStatus.COMPLETE else 0.0
        state["seen_ratio"] = (
            latest.accounts_seen / latest.accounts_expected if latest.accounts_expected else 1.0
        )
        state["started"] = latest.created_at.timestamp()
    completed = (
        run_model.objects.filter(status=BatchRunStatus.COMPLETE).order_by("-completed_at").first()
    )
    if completed is not None and completed.completed_at is not None:
        state["last_complete"] = completed.completed_at.timestamp()
    return state


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", help_text, value=value)


class ScoringCollector(DatabaseCollector):
    def read(self) -> Iterable[Any]:
        yield _gauge(
            "scores_stale_accounts",
            "Accounts whose latest snapshot is older than their latest credit event.",
            stale_accounts_count(),
        )
        depth, oldest_age = outbox_state()
        yield _gauge("outbox_depth", "Recomputes wanted and not yet done.", depth)
        yield _gauge(
            "outbox_oldest_age_seconds",
            "How long the oldest wanted recompute has waited (0 when none).",
            oldest_age or 0.0,
        )
        batch = batch_state()
        yield _gauge(
            "batch_runs_overdue",
            "Batch runs still running past their deadline.",
            batch["overdue"],
        )
        described = {
            "complete": "1 if the latest batch run is complete, else 0.",
            "seen_ratio": "Accounts seen over accounts expected, latest batch run.",
            "started": "Unix time the latest batch run was created.",
            "last_complete": "Unix time the latest complete batch run completed.",
        }
        names = {
            "complete": "batch_last_run_complete",
            "seen_ratio": "batch_last_run_accounts_seen_ratio",
            "started": "batch_last_run_created_timestamp_seconds",
            "last_complete": "batch_last_complete_timestamp_seconds",
        }
        for key, help_text in described.items():
            if key in batch:
                yield _gauge(names[key], help_text, batch[key])

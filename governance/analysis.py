"""Audits, backtests, dry-runs and drift checks as stored, resumable runs.

Asking for one writes an ``AnalysisRun`` row (queued) in the asking transaction and sends
its task after the commit. The row is the durable record: a send that is lost (the
broker is down) or a worker that dies leaves the run queued or running without a
heartbeat, and the watcher sends it again. The task claims the run, calls the runner of
its kind outside any transaction (a run reads the whole population and may take
minutes), reports progress on the row as it goes, and stores the result.

A runner is ``(run, progress) -> AnalysisOutcome``; each kind's lives in its own module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from merchants.perks.models import PerkChange
from scoring.models import Scorecard
from wallet.models import User

logger = logging.getLogger(__name__)


class Progress(Protocol):
    def __call__(self, percent: int, note: str = "") -> None: ...


@dataclass(frozen=True)
class AnalysisOutcome:
    """What a runner found: the report (JSON-ready), and for audits the lowest ratio."""

    result: dict[str, Any]
    population_at: datetime | None = None
    min_ratio: float | None = None
    flagged: bool = False
    subject_digest: str | None = None
    """The digest of what was really examined (a draft may change between the request
    and the run); replaces the row's."""
    inputs: dict[str, Any] = field(default_factory=dict)
    """Inputs known only once the run started (e.g. the perk versions it examined);
    merged into the row's ``inputs``."""


Runner = Callable[[AnalysisRun, Progress], AnalysisOutcome]


def _runners() -> dict[str, Runner]:
    # Imported here: each runner module imports this one for the types above.
    from governance import audit, backtests, drift, dryrun, fitting

    return {
        AnalysisKind.AUDIT: audit.audit_analysis,
        AnalysisKind.BACKTEST: backtests.backtest_analysis,
        AnalysisKind.DRY_RUN: dryrun.dry_run_analysis,
        AnalysisKind.DRIFT: drift.drift_analysis,
        AnalysisKind.FIT: fitting.fit_analysis,
    }


@transaction.atomic
def analysis_request(
    *,
    kind: str,
    scorecard: Scorecard | None = None,
    perk_change: PerkChange | None = None,
    subject_digest: str = "",
    inputs: dict[str, Any] | None = None,
    by: User | None = None,
) -> AnalysisRun:
    """A queued run of ``kind`` about its subject; its task is sent after the commit."""
    run = AnalysisRun.objects.create(
        kind=kind,
        scorecard=scorecard,
        perk_change=perk_change,
        subject_digest=subject_digest,
        inputs=inputs or {},
        requested_by=by,
        created_at=timezone.now(),
    )
    run_id = run.pk
    transaction.on_commit(lambda: analysis_send(run_id))
    logger.info("analysis requested", extra={"run_id": run_id, "kind": kind})
    return run


def analysis_send(run_id: int) -> None:
    """Send the run's task; never fails the caller (the watcher resends a lost one).
    Without a broker (eager mode) the run happens here."""
    from governance import tasks

    try:
        tasks.analysis_run.apply_async((run_id,), retry=False)
    except Exception:  # a broker that refuses must not fail the request
        # (eagerly, the task's own error lands here too: the traceback says which)
        logger.warning(
            "analysis not sent; the watcher will", extra={"run_id": run_id}, exc_info=True
        )


# A run whose worker died this many times (claimed, then silent) fails rather than being
# claimed again.
MAX_ATTEMPTS = 3


def _claim(run_id: int, now: datetime) -> AnalysisRun | None:
    stale = now - settings.ANALYSIS_STALE_AFTER
    with transaction.atomic():
        run = (
            AnalysisRun.objects.select_for_update(skip_locked=True)
            .filter(pk=run_id)
            .filter(
                Q(status=AnalysisStatus.QUEUED)
                | Q(status=AnalysisStatus.RUNNING, heartbeat_at__lt=stale)
            )
            .first()
        )
        if run is None:
            return None
        if run.status == AnalysisStatus.RUNNING and run.attempts >= MAX_ATTEMPTS:
            # Its workers died on it each time (a run too large for them): once more
            # would kill another, every ANALYSIS_STALE_AFTER, for ever.
            alive = run.heartbeat_at.isoformat(timespec="minutes") if run.heartbeat_at else "?"
            run.status, run.finished_at = AnalysisStatus.FAILED, now
            run.error = (
                f"The worker running it stopped {run.attempts} times without finishing "
                f"(last sign of life at {alive})."
            )
            run.save(update_fields=["status", "finished_at", "error"])
            logger.error("analysis abandoned", extra={"run_id": run.pk, "kind": run.kind})
            return None
        run.status, run.started_at, run.heartbeat_at = AnalysisStatus.RUNNING, now, now
        run.attempts += 1
        run.progress, run.progress_note = 0, ""
        run.save(
            update_fields=[
                "status",
                "started_at",
                "heartbeat_at",
                "attempts",
                "progress",
                "progress_note",
            ]
        )
        return run


def _progress_for(run_id: int) -> Progress:
    def progress(percent: int, note: str = "") -> None:
        AnalysisRun.objects.filter(pk=run_id, status=AnalysisStatus.RUNNING).update(
            progress=max(0, min(100, percent)),
            progress_note=note[:200],
            heartbeat_at=timezone.now(),
        )

    return progress


def analysis_execute(run_id: int) -> AnalysisRun | None:
    """Run a queued run (or a running one whose worker went silent); None when there is
    nothing to do (done, failed, or alive elsewhere). A runner's error fails the run with
    the error kept on it, and is logged."""
    run = _claim(run_id, timezone.now())
    if run is None:
        return None
    try:
        outcome = _runners()[run.kind](run, _progress_for(run.pk))
    except Exception as error:
        return _failed(run, error)
    try:
        run = _store(run.pk, outcome)
    except Exception as error:
        # Left running, the run would be claimed again by the watcher and computed again
        # every ANALYSIS_STALE_AFTER, failing the same way each time: it fails instead.
        return _failed(run, error, note="storing the result")
    logger.info("analysis done", extra={"run_id": run.pk, "kind": run.kind})
    return run


@transaction.atomic
def _store(run_id: int, outcome: AnalysisOutcome) -> AnalysisRun:
    run = AnalysisRun.objects.select_for_update().get(pk=run_id)
    run.status, run.progress, run.progress_note = AnalysisStatus.DONE, 100, ""
    run.result = outcome.result
    run.population_at = outcome.population_at
    run.min_ratio, run.flagged = outcome.min_ratio, outcome.flagged
    run.inputs = {**run.inputs, **outcome.inputs}
    if outcome.subject_digest is not None:
        run.subject_digest = outcome.subject_digest
    run.finished_at = run.heartbeat_at = timezone.now()
    run.save()
    _after_done(run)
    return run


def _failed(run: AnalysisRun, error: Exception, *, note: str = "") -> AnalysisRun:
    """Fail the run with the error kept on it, and log it."""
    logger.exception(
        "analysis failed", extra={"run_id": run.pk, "kind": run.kind, "while": note or "running"}
    )
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=AnalysisStatus.FAILED,
        error=f"{type(error).__name__}: {error}"[:2000],
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    return run


def _after_done(run: AnalysisRun) -> None:
    """What a finished run sets off, in the transaction that stores it: the nightly
    audit's and drift check's notices (``governance.notices``), and a fit's draft with
    its audit and backtest (``governance.fitting``)."""
    from governance import fitting, notices

    notices.notices_for_run(run)
    if run.kind == AnalysisKind.FIT:
        fitting.fit_stored(run)


def analysis_runs_stale(*, now: datetime | None = None) -> list[int]:
    """The runs to send again: queued or running with no sign of life for
    ``ANALYSIS_STALE_AFTER``."""
    now = now or timezone.now()
    stale = now - settings.ANALYSIS_STALE_AFTER
    return list(
        AnalysisRun.objects.filter(
            Q(status=AnalysisStatus.QUEUED, created_at__lt=stale)
            | Q(status=AnalysisStatus.RUNNING, heartbeat_at__lt=stale)
        ).values_list("pk", flat=True)
    )

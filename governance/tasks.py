"""Governance's Celery tasks: thin wrappers, ids in, idempotent."""

from celery import shared_task

from governance import analysis
from governance.models import AnalysisKind


@shared_task(name="governance.analysis_run", acks_late=True, reject_on_worker_lost=True)
def analysis_run(run_id: int) -> str | None:
    """Run one stored analysis (audit, backtest, dry-run, drift); nothing if it is done
    or alive elsewhere. Returns its final status."""
    run = analysis.analysis_execute(run_id)
    return run.status if run is not None else None


@shared_task(name="governance.analysis_runs_watch", acks_late=True, reject_on_worker_lost=True)
def analysis_runs_watch() -> int:
    """Send again the runs whose task was lost or whose worker died; returns how many."""
    run_ids = analysis.analysis_runs_stale()
    for run_id in run_ids:
        analysis.analysis_send(run_id)
    return len(run_ids)


@shared_task(name="governance.audit_live", acks_late=True, reject_on_worker_lost=True)
def audit_live() -> int:
    """The nightly fairness audit of what is live (the active scorecard and every active
    perk): a stored run; a ratio under the floor raises a notice. Returns the run's id."""
    return analysis.analysis_request(kind=AnalysisKind.AUDIT, inputs={"live": True}).pk


@shared_task(name="governance.drift_live", acks_late=True, reject_on_worker_lost=True)
def drift_live() -> int:
    """The nightly drift check of the active scorecard; returns the run's id."""
    return analysis.analysis_request(kind=AnalysisKind.DRIFT, inputs={"live": True}).pk

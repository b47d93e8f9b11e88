"""The scorecard backtest as a stored run: a draft against the active version, on today's
population (``scoring.backtest.scorecard_backtest``), run by a Celery task with its
progress on the row, its result kept for the admin's report.

A draft is compared with the active version, never the active version with itself, and
never a retired one: :func:`backtest_refusal` says why a scorecard cannot be backtested
(the admin asks before it creates a run), and the runner refuses with the same words, so
that a run asked for anyway fails with them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from governance.analysis import AnalysisOutcome, Progress
from governance.errors import BacktestRefused
from governance.models import AnalysisRun
from scoring import selectors
from scoring.backtest import Backtest, scorecard_backtest
from scoring.models import Scorecard, ScorecardStatus


def backtest_refusal(scorecard: Scorecard | None) -> str | None:
    """Why ``scorecard`` cannot be backtested (in words for staff), or None if it can: it
    must be a draft (the active version is what a draft is compared with)."""
    if scorecard is None:
        return "A backtest compares a scorecard draft with the active version: choose a draft."
    if scorecard.status == ScorecardStatus.ACTIVE:
        return (
            f"Version {scorecard.version} is the active version: a backtest compares a draft "
            "with it, never the active version with itself. Backtest a draft instead."
        )
    if scorecard.status != ScorecardStatus.DRAFT:
        return (
            f"Version {scorecard.version} is {scorecard.get_status_display().lower()}: "
            "only a draft is backtested against the active version."
        )
    return None


def backtest_result(backtest: Backtest) -> dict[str, Any]:
    """The stored report: the backtest's fields (``dataclasses.asdict``) with its moment as
    an ISO string, and the band labels in ``BAND_CODES`` order (worst first)."""
    result = dataclasses.asdict(backtest)
    result["at"] = backtest.at.isoformat()
    result["band_labels"] = list(backtest.band_labels)
    # JSON-ready: tuples as lists, as they come back from the database.
    return _listed(result)


def _listed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _listed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_listed(item) for item in value]
    return value


def backtest_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    """Backtest the run's draft against the active version; refused (the run fails with
    the reason) for the active version or anything but a draft."""
    scorecard = (
        Scorecard.objects.filter(pk=run.scorecard_id).first()
        if run.scorecard_id is not None
        else None
    )
    refusal = backtest_refusal(scorecard)
    if scorecard is None or refusal is not None:
        raise BacktestRefused(refusal)
    digest = selectors.scorecard_digest(scorecard)

    def chunk_done(done: int, total: int) -> None:
        progress(100 * done // total, f"{done} of {total} chunks of accounts scored")

    backtest = scorecard_backtest(candidate=scorecard, progress=chunk_done)
    progress(100, f"{backtest.accounts} accounts scored")
    return AnalysisOutcome(
        result=backtest_result(backtest),
        population_at=backtest.at,
        subject_digest=digest,
        inputs={
            "candidate_version": backtest.candidate_version,
            "active_version": backtest.active_version,
        },
    )

"""Drift of the live scorecard (to be written: see the contract)."""

from governance.analysis import AnalysisOutcome, Progress
from governance.models import AnalysisRun


def drift_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    raise NotImplementedError


def drift_notices(run: AnalysisRun) -> None:
    """Raise or resolve ``drift:live`` after the nightly drift check."""

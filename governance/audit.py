"""The fairness audit (to be written: see the contract)."""

from governance.analysis import AnalysisOutcome, Progress
from governance.models import AnalysisRun


def audit_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    raise NotImplementedError


def audit_notices(run: AnalysisRun) -> None:
    """Raise or resolve ``audit:live`` after the nightly audit."""

"""The scorecard backtest as a stored run (to be written: see the contract)."""

from governance.analysis import AnalysisOutcome, Progress
from governance.models import AnalysisRun


def backtest_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    raise NotImplementedError

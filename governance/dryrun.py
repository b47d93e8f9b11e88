"""A perk draft's dry-run as a stored run (to be written: see the contract)."""

from governance.analysis import AnalysisOutcome, Progress
from governance.models import AnalysisRun


def dry_run_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    raise NotImplementedError

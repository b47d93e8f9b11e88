"""Fitting a scorecard draft from outcomes, as a stored run (``AnalysisKind.FIT``).

CONTRACT SKELETON: the signatures and the report's shape below are fixed; bodies are
filled in.

Asked for from the scorecards' admin ("Fit a draft from outcomes"): the run reads the
training table (``scoring.training``) as of the moment it starts, splits it out of time
(the newest 25% of the period is the test), fits on the older rows (``scoring.fitting``)
with the chosen facts, and reports on the test rows the fitted draft's figures next to
the active version's. Storing the result writes, in the same transaction, the ordinary
scorecard draft the fit produced (``scoring.services.scorecard_draft_create``, authored
by whoever asked) as the run's scorecard, and asks for the draft's fairness audit and
backtest (``governance.analysis.analysis_request``): the draft goes through them and the
four-eyes approval like any other, and cannot be approved without its audit.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypedDict

from governance.analysis import AnalysisOutcome, Progress, analysis_request
from governance.models import AnalysisKind, AnalysisRun
from scoring.facts import FACTS
from scoring.fitting import FitOptions
from wallet.models import User

# The facts a draft may be fitted on, in the registry's order.
SCORABLE_FACTS: tuple[str, ...] = tuple(key for key, fact in FACTS.items() if fact.scorable)


class MetricsReport(TypedDict):
    count: int
    bad: int
    bad_rate: float
    auc: float
    gini: float
    ks: float


class RateReport(TypedDict):
    label: str  # a band code, or the decile "1".."10" (lowest scores first)
    low: int
    high: int
    count: int
    bad: int
    bad_rate: float


class BinReport(TypedDict):
    start: int | None  # None: the missing bin ("no value")
    end: int | None  # the next bin's start (exclusive); None for the last bin
    count: int
    bad: int
    bad_rate: float
    woe: float
    points: int


class FactorReport(TypedDict):
    fact: str
    key: str  # the factor's key in the draft
    label: str
    iv: float
    coefficient: float
    bins: list[BinReport]  # the missing bin last, when the fact may be absent


class DroppedReport(TypedDict):
    fact: str
    label: str
    iv: float
    why: str


class PeriodReport(TypedDict):
    count: int
    bad: int
    accounts: int
    taken_from: str  # ISO 8601, the first snapshot's moment
    taken_until: str  # the last's


class FitReport(TypedDict):
    """``AnalysisRun.result`` of a fit."""

    outcome: str  # scoring.outcomes.OUTCOME_TEXT
    as_of: str  # ISO 8601: the moment outcomes were read at
    facts: list[str]  # asked for, in the registry's order
    options: dict[str, float]  # FitOptions as numbers (pdo, base_score, base_odds, ...)
    train: PeriodReport
    test: PeriodReport
    metrics: dict[str, MetricsReport]  # "train", "test" (the draft), "active_test"
    deciles: list[RateReport]  # the draft on the test rows
    deciles_fall: bool  # the bad rate falls (never rises) as the decile rises
    bands: list[RateReport]  # the draft on the test rows, worst band first
    roc: dict[str, list[list[float]]]  # "draft", "active": [[fpr, tpr], ...]
    factors: list[FactorReport]  # the draft's factors, in its order
    dropped: list[DroppedReport]
    psi: float  # the draft's bands against the active version's, on the test rows
    active_version: int | None
    base_points: int
    definition: dict[str, object]  # the draft's definition
    draft_id: int | None  # set when stored (the draft written then)
    audit_run_id: int | None
    backtest_run_id: int | None


def facts_checked(facts: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The facts to fit, in the registry's order, duplicates dropped; ``ValueError`` for
    none, or for a key that is not a scorable registry fact."""
    unknown = [key for key in facts if key not in FACTS or not FACTS[key].scorable]
    if unknown:
        raise ValueError(
            f"Not a scorable fact: {', '.join(sorted(set(unknown)))}. "
            f"Choose among {', '.join(SCORABLE_FACTS)}."
        )
    chosen = tuple(key for key in SCORABLE_FACTS if key in set(facts))
    if not chosen:
        raise ValueError("Choose at least one fact to fit the draft on.")
    return chosen


def _options_json(options: FitOptions) -> dict[str, float]:
    return {key: float(value) for key, value in dataclasses.asdict(options).items()}


def _options_from(inputs: dict[str, Any]) -> FitOptions:
    """The options stored with a run, as ``FitOptions`` (whole numbers where it has them)."""
    known = {item.name: item for item in dataclasses.fields(FitOptions)}
    values: dict[str, Any] = {}
    for key, value in (inputs or {}).items():
        if key in known:
            values[key] = int(value) if known[key].type in ("int", int) else float(value)
    return FitOptions(**values)


def fit_request(*, by: User, facts: tuple[str, ...], options: FitOptions) -> AnalysisRun:
    """A queued fit (inputs: the facts and options); its task is sent after the commit.
    ``facts``: scorable registry facts, at least one."""
    return analysis_request(
        kind=AnalysisKind.FIT,
        inputs={"facts": list(facts_checked(facts)), "options": _options_json(options)},
        by=by,
    )


def fit_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    """The runner of ``AnalysisKind.FIT``."""
    raise NotImplementedError


def fit_stored(run: AnalysisRun) -> None:
    """What storing a fit's result sets off, in that transaction (from
    ``governance.analysis._after_done``): the draft, once (a run stored again after a
    worker died does not write a second one), and its audit and backtest."""
    raise NotImplementedError

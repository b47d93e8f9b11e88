"""Fitting a scorecard draft from outcomes, as a stored run (``AnalysisKind.FIT``).

Asked for from the scorecards' admin ("Fit a draft from outcomes"): the run reads the
training table (``scoring.training``) as of the moment it starts, splits it out of time
(the newest 25% of the period is the test), fits on the older rows (``scoring.fitting``)
with the chosen facts, and reports on the test rows the fitted draft's figures next to
the active version's. Storing the result writes, in the same transaction, the ordinary
scorecard draft the fit produced (``scoring.services.scorecard_draft_create``, authored
by whoever asked) as the run's scorecard, and asks for the draft's fairness audit and
backtest (``governance.approvals.scorecard_analysis_request``, in the asker's name): the
draft goes through them and the four-eyes approval like any other, and cannot be
approved without its audit. A run stored again (its worker died after storing) writes no
second draft.

A fit that cannot be made (no mature snapshot, a test period with one kind of outcome,
data the fitter refuses) fails with the reason as the run's error, and writes nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, cast

import numpy as np
import pandas as pd
from django.utils import timezone

from common.domain import Forbidden
from governance import approvals
from governance.analysis import AnalysisOutcome, Progress, analysis_request
from governance.models import AnalysisKind, AnalysisRun
from scoring import selectors
from scoring import services as scoring_services
from scoring.facts import FACTS, Features
from scoring.fitting import (
    ColumnSpec,
    FitError,
    FitOptions,
    FittedBin,
    FittedColumn,
    RateRow,
    band_rates,
    decile_rates,
    fit,
    metrics,
    out_of_time_split,
    psi,
    roc_curve_points,
)
from scoring.outcomes import OUTCOME_MATURE_DAYS, OUTCOME_TEXT
from scoring.scorecard import Scorecard
from scoring.training import TrainingTable, training_table
from wallet.models import User

logger = logging.getLogger(__name__)

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
    options: dict[str, float | None]  # FitOptions as asked (base_odds None: the data's)
    base_odds: float  # the odds of good to bad at the base score the points were scaled to
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


def _options_json(options: FitOptions) -> dict[str, float | None]:
    """The options as numbers; None where left to the data (the base odds)."""
    return {
        key: None if value is None else float(value)
        for key, value in dataclasses.asdict(options).items()
    }


def _options_from(inputs: dict[str, Any]) -> FitOptions:
    """The options stored with a run, as ``FitOptions`` (whole numbers where it has them)."""
    known = {item.name: item for item in dataclasses.fields(FitOptions)}
    values: dict[str, Any] = {}
    for key, value in (inputs or {}).items():
        if key in known:
            if value is None:
                values[key] = None
            else:
                values[key] = int(value) if known[key].type in ("int", int) else float(value)
    return FitOptions(**values)


def fit_request(*, by: User, facts: tuple[str, ...], options: FitOptions) -> AnalysisRun:
    """A queued fit (inputs: the facts and options); its task is sent after the commit.
    ``facts``: scorable registry facts, at least one. Refused (``Forbidden``) to whoever
    may not run analyses: the draft's audit and backtest are asked for in their name."""
    if not by.has_perm(approvals.REQUEST_PERMISSION):
        raise Forbidden("You may not run audits, backtests or fits.")
    return analysis_request(
        kind=AnalysisKind.FIT,
        inputs={"facts": list(facts_checked(facts)), "options": _options_json(options)},
        by=by,
    )


class FitFailed(Exception):
    """A fit that cannot be made from what is recorded, in words staff can act on (kept
    as the run's error; no draft is written)."""


def fit_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    """The runner of ``AnalysisKind.FIT``."""
    facts = facts_checked(list(run.inputs.get("facts") or []))
    options = _options_from(run.inputs.get("options") or {})
    as_of = timezone.now()
    progress(1, "reading the snapshots and their outcomes")

    def table_progress(percent: int, note: str = "") -> None:
        progress(1 + percent * 49 // 100, note)

    table = training_table(as_of=as_of, progress=table_progress)
    if len(table) == 0:
        raise FitFailed(
            f"No snapshot is old enough to know its outcome: a snapshot's outcome is known "
            f"{OUTCOME_MATURE_DAYS} days after it was taken, and none was taken before "
            f"{(as_of - timedelta(days=OUTCOME_MATURE_DAYS)):%Y-%m-%d}. Fit again once the "
            "scores have that much history."
        )
    test = np.asarray(out_of_time_split(table.taken_at, test_share=options.test_share), bool)
    train = ~test
    _enough(table, train, test, options)
    frame = cast(pd.DataFrame, table.facts_frame(facts))
    progress(55, f"fitting on {int(train.sum())} snapshots")
    try:
        model = fit(
            frame.loc[train].reset_index(drop=True),
            table.bad[train],
            [ColumnSpec.from_fact(key) for key in facts],
            options,
        )
    except FitError as error:
        raise FitFailed(
            f"The fit could not be made from the {int(train.sum())} older snapshots "
            f"({_period_words(table, train)}): {error}. Fit on other facts, or wait for more "
            "outcomes."
        ) from error
    progress(80, "scoring the test rows with the draft and the active version")
    definition = model.definition()
    draft = Scorecard.from_definition(definition)
    active_row = selectors.scorecard_active()
    active = selectors.scorecard_compiled(active_row)
    train_rows, test_rows = table.features_rows(train), table.features_rows(test)
    draft_train, draft_test = _scores(draft, train_rows), _scores(draft, test_rows)
    active_test = _scores(active, test_rows)
    bad_train, bad_test = table.bad[train], table.bad[test]
    deciles = [_rate(row) for row in decile_rates(draft_test, bad_test)]
    report: FitReport = {
        "outcome": OUTCOME_TEXT,
        "as_of": as_of.isoformat(),
        "facts": list(facts),
        "options": _options_json(options),
        "base_odds": round(model.base_odds, 4),
        "train": _period(table, train),
        "test": _period(table, test),
        "metrics": {
            "train": _metrics(draft_train, bad_train),
            "test": _metrics(draft_test, bad_test),
            "active_test": _metrics(active_test, bad_test),
        },
        "deciles": deciles,
        "deciles_fall": deciles_fall(deciles),
        "bands": [_rate(row) for row in band_rates(draft_test, bad_test)],
        "roc": {
            "draft": _curve(draft_test, bad_test),
            "active": _curve(active_test, bad_test),
        },
        "factors": [_factor(column, definition) for column in model.columns],
        "dropped": [
            {
                "fact": dropped.name,
                "label": FACTS[dropped.name].label,
                "iv": round(float(dropped.iv), 4),
                "why": dropped.why,
            }
            for dropped in model.dropped
        ],
        "psi": round(float(psi(active_test, draft_test)), 4),
        "active_version": active_row.version,
        "base_points": int(definition["base_points"]),
        "definition": definition,
        "draft_id": None,
        "audit_run_id": None,
        "backtest_run_id": None,
    }
    progress(100, f"draft fitted: test AUC {report['metrics']['test']['auc']:.3f}")
    return AnalysisOutcome(
        result=cast(dict[str, Any], report),
        population_at=as_of,
        inputs={"active_version": active_row.version},
    )


def _enough(table: TrainingTable, train: np.ndarray, test: np.ndarray, options: FitOptions) -> None:
    """Refuse, in words, a split the report cannot be made from: no older rows to fit on,
    or a test period without both outcomes (its AUC would mean nothing)."""
    if not train.any() or not test.any():
        raise FitFailed(
            f"The mature snapshots ({_period_words(table, np.ones(len(table), bool))}) cannot "
            f"be split into an older part to fit on and the newest {options.test_share:.0%} "
            "of the period to test on: they were all taken at one moment. Fit again once "
            "the scores have a longer history."
        )
    bad = int(table.bad[test].sum())
    if bad == 0 or bad == int(test.sum()):
        which = "no bad outcome" if bad == 0 else "only bad outcomes"
        raise FitFailed(
            f"The test period (the newest {options.test_share:.0%}: {_period_words(table, test)})"
            f" has {which}, so the draft's ranking of outcomes cannot be measured on it. Fit "
            "again with a larger test share, or once more outcomes are known."
        )


def _period_words(table: TrainingTable, rows: np.ndarray) -> str:
    taken = table.taken_at[rows]
    if not len(taken):
        return "none"
    first, last = (datetime.fromtimestamp(int(at), tz=UTC) for at in (taken.min(), taken.max()))
    return f"{len(taken)} snapshots taken {first:%Y-%m-%d} to {last:%Y-%m-%d}"


def _scores(card: Scorecard, rows: list[Features]) -> np.ndarray:
    """The scores ``card`` gives ``rows``; each distinct set of features worked out once
    (most citizens share theirs with many others)."""
    known: dict[Features, int] = {}
    scores = np.empty(len(rows), dtype=np.int64)
    for index, features in enumerate(rows):
        score = known.get(features)
        if score is None:
            score = known[features] = card.evaluate(features).score
        scores[index] = score
    return scores


def _period(table: TrainingTable, rows: np.ndarray) -> PeriodReport:
    taken = table.taken_at[rows]
    return {
        "count": int(rows.sum()),
        "bad": int(table.bad[rows].sum()),
        "accounts": len(np.unique(table.account_ids[rows])),
        "taken_from": _iso(int(taken.min())) if len(taken) else "",
        "taken_until": _iso(int(taken.max())) if len(taken) else "",
    }


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()


def _metrics(scores: np.ndarray, bad: np.ndarray) -> MetricsReport:
    found = metrics(scores, bad)
    return {
        "count": int(found.count),
        "bad": int(found.bad),
        "bad_rate": round(found.bad / found.count, 4) if found.count else 0.0,
        "auc": round(float(found.auc), 4),
        "gini": round(float(found.gini), 4),
        "ks": round(float(found.ks), 4),
    }


def _rate(row: RateRow) -> RateReport:
    return {
        "label": row.label,
        "low": int(row.low),
        "high": int(row.high),
        "count": int(row.count),
        "bad": int(row.bad),
        "bad_rate": round(float(row.bad_rate), 4),
    }


def deciles_fall(deciles: list[RateReport]) -> bool:
    """Whether the bad rate never rises from one decile to the next (empty ones skipped)."""
    rates = [row["bad_rate"] for row in deciles if row["count"]]
    return all(later <= earlier for earlier, later in itertools.pairwise(rates))


def _curve(scores: np.ndarray, bad: np.ndarray) -> list[list[float]]:
    return [
        [round(float(fpr), 4), round(float(tpr), 4)] for fpr, tpr in roc_curve_points(scores, bad)
    ]


def _factor(column: FittedColumn, definition: dict[str, Any]) -> FactorReport:
    """The report of one fitted fact: its bins as the draft scores them (``start`` the
    draft's ``from``, whole values), the missing bin last."""
    factor = next(raw for raw in definition["factors"] if raw["fact"] == column.name)
    starts = [int(raw["from"]) for raw in factor["bins"]]  # one per fitted bin, in order
    bins: list[BinReport] = [
        _bin(fitted, start, starts[index + 1] if index + 1 < len(starts) else None)
        for index, (fitted, start) in enumerate(zip(column.bins, starts, strict=True))
    ]
    if column.missing is not None:
        bins.append(_bin(column.missing, None, None))
    return {
        "fact": column.name,
        "key": str(factor["key"]),
        "label": str(factor["label"]),
        "iv": round(float(column.iv), 4),
        "coefficient": round(float(column.coefficient), 4),
        "bins": bins,
    }


def _bin(fitted: FittedBin, start: int | None, end: int | None) -> BinReport:
    return {
        "start": start,
        "end": end,
        "count": int(fitted.count),
        "bad": int(fitted.bad),
        "bad_rate": round(fitted.bad / fitted.count, 4) if fitted.count else 0.0,
        "woe": round(float(fitted.woe), 4),
        "points": int(fitted.points),
    }


def fit_stored(run: AnalysisRun) -> None:
    """What storing a fit's result sets off, in that transaction (from
    ``governance.analysis._after_done``): the draft, once (a run stored again after a
    worker died does not write a second one), and its audit and backtest."""
    result = dict(run.result or {})
    if run.scorecard_id is not None:
        # Stored before: the draft and its analyses were asked for then. The result just
        # stored came from the runner again: it names them once more.
        first = AnalysisRun.objects.filter(scorecard_id=run.scorecard_id).order_by("id")
        audit = first.filter(kind=AnalysisKind.AUDIT, pk__gt=run.pk).first()
        backtest = first.filter(kind=AnalysisKind.BACKTEST, pk__gt=run.pk).first()
        result["draft_id"] = run.scorecard_id
        result["audit_run_id"] = audit.pk if audit else None
        result["backtest_run_id"] = backtest.pk if backtest else None
        run.result = result
        run.save(update_fields=["result"])
        return
    by = run.requested_by
    draft = scoring_services.scorecard_draft_create(
        name=_draft_name(run, result),
        definition=dict(result["definition"]),
        notes=_draft_notes(run, result),
        by=by,
    )
    run.scorecard = draft
    result["draft_id"] = draft.pk
    if by is not None:
        # As its author would from the draft's page (``by`` may run them: it asked for the
        # fit). Their tasks are sent once this transaction commits.
        audit = approvals.scorecard_analysis_request(
            kind=AnalysisKind.AUDIT, scorecard=draft, by=by
        )
        backtest = approvals.scorecard_analysis_request(
            kind=AnalysisKind.BACKTEST, scorecard=draft, by=by
        )
        result["audit_run_id"], result["backtest_run_id"] = audit.pk, backtest.pk
    run.result = result
    run.save(update_fields=["scorecard", "result"])
    logger.info(
        "fitted draft written",
        extra={"run_id": run.pk, "version": draft.version, "draft_id": draft.pk},
    )


def _draft_name(run: AnalysisRun, result: dict[str, Any]) -> str:
    as_of = str(result.get("as_of", ""))[:10]
    return f"Fitted from outcomes {as_of} (fit {run.pk})"[:100]


def _draft_notes(run: AnalysisRun, result: dict[str, Any]) -> str:
    """Why this draft: what it learned from, and how it did out of time against the
    active version (``result``: a ``FitReport``)."""
    test, active = result["metrics"]["test"], result["metrics"]["active_test"]
    train_period, test_period = result["train"], result["test"]
    version = result.get("active_version")
    labels = ", ".join(FACTS[key].label for key in result["facts"])
    dropped = "; ".join(f"{row['label']}: {row['why']}" for row in result["dropped"])
    return (
        f"Fitted from outcomes by analysis run {run.pk}, as of {result['as_of'][:10]}, on: "
        f"{labels}.\n"
        f"Outcome: {result['outcome']}\n"
        f"Trained on {train_period['count']} snapshots ({train_period['bad']} bad) taken "
        f"{train_period['taken_from'][:10]} to {train_period['taken_until'][:10]}; tested "
        f"out of time on the newest {test_period['count']} ({test_period['bad']} bad) taken "
        f"{test_period['taken_from'][:10]} to {test_period['taken_until'][:10]}.\n"
        f"On the test rows: AUC {test['auc']:.3f} against {active['auc']:.3f} for the "
        f"active version {version}; Gini {test['gini']:.3f} ({active['gini']:.3f}); KS "
        f"{test['ks']:.3f} ({active['ks']:.3f}). Population stability (PSI) against the "
        f"active version: {result['psi']:.3f}." + (f"\nLeft out: {dropped}." if dropped else "")
    )

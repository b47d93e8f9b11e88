"""Fitting a scorecard to outcomes: monotone bins, weights of evidence, a logistic
regression, and points on our scale. Pure (no database, no Django): a table of columns and
a binary outcome in, a fitted model out, which says itself as a scorecard definition that
``scoring.scorecard`` accepts unchanged.

CONTRACT SKELETON: the signatures and dataclasses below are fixed; bodies are filled in.

- Bins: optbinning's ``OptimalBinning`` per column (through ``BinningProcess``), with a
  monotonic trend of the bad rate in the fact's good direction (``descending`` when more
  is better), at most ``max_bins`` bins of at least ``min_bin_share`` of the rows each.
  Categorical columns (the command line's ``--categorical``) are grouped by their weight
  of evidence, with no trend. A column whose best binning is a single bin says nothing
  and is dropped.
- Weights of evidence as optbinning defines them: ln(share of goods / share of bads) of
  the bin (higher is better).
- scikit-learn's ``LogisticRegression`` of "bad" on the columns' weights of evidence. A
  column whose coefficient comes out with the wrong sign (a better bin would cost points,
  which two correlated columns can cause) is dropped and the regression fitted again,
  until every sign is right: points never go down as a fact gets better.
- Points: ``factor = pdo / ln 2``, ``offset = base_score - factor * ln(base_odds)``
  (odds of good to bad); a bin earns ``-factor * coefficient * woe``, the base
  ``offset - factor * intercept``; each column's points are shifted so its worst bin
  earns 0 (the shift goes to the base) and everything is rounded to whole points. The
  score is the base plus the points, clipped to 350..950 as ``scoring.scorecard`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

Direction = Literal["higher_is_better", "lower_is_better", "auto"]


@dataclass(frozen=True)
class FitOptions:
    pdo: float = 40.0
    """Points to double the odds of good to bad."""
    base_score: int = 600
    base_odds: float = 9.0
    """The odds of good to bad at ``base_score`` (9: one in ten bad)."""
    max_bins: int = 5
    min_bin_share: float = 0.05
    test_share: float = 0.25
    """The newest share of the period (out of time) or, on a CSV without a test file,
    a random share held out."""
    random_state: int = 0


@dataclass(frozen=True)
class ColumnSpec:
    """One column to fit: a registry fact (``from_fact``) or a CSV column."""

    name: str
    direction: Direction = "auto"
    categorical: bool = False
    integer: bool = False
    """Whole values (a registry fact): bin edges become whole ``from`` values."""
    minimum: float | None = None
    """The least value the column can take (a fact's minimum): the first bin's ``from``."""
    maximum: float | None = None
    missing_as: float | None = None
    """Score an absent value as this value (``Fact.missing_scored_as``); None: absent
    values get a bin of their own (``missing_points``)."""

    @classmethod
    def from_fact(cls, key: str) -> ColumnSpec:
        """The spec of a scorable registry fact (``scoring.facts.FACTS``)."""
        raise NotImplementedError


@dataclass(frozen=True)
class FittedBin:
    """One bin: numeric ``start`` (None for a categorical bin) or ``categories``; the
    rows of the training data in it, their bad rate, its weight of evidence and points.
    The missing bin of an optional column is not among the bins (``FittedColumn.missing``)."""

    start: float | None
    categories: tuple[str, ...] | None
    count: int
    bad: int
    woe: float
    points: int


@dataclass(frozen=True)
class FittedColumn:
    name: str
    bins: tuple[FittedBin, ...]
    missing: FittedBin | None
    iv: float
    """Information value of the column's binning on the training rows."""
    coefficient: float


@dataclass(frozen=True)
class DroppedColumn:
    name: str
    iv: float
    why: str
    """In words: "a single bin: it does not separate good from bad", "its weight came
    out with the wrong sign next to the other columns"."""


@dataclass(frozen=True)
class FittedModel:
    base_points: int
    columns: tuple[FittedColumn, ...]
    dropped: tuple[DroppedColumn, ...]
    intercept: float
    options: FitOptions

    def score(self, table: pd.DataFrame) -> np.ndarray:
        """Scores (int64, clipped to 350..950) of the rows of ``table`` (the fitted
        columns; NaN is absent)."""
        raise NotImplementedError

    def definition(self) -> dict[str, Any]:
        """The scorecard definition (``scoring.scorecard``'s shape) of a model fitted
        on registry facts: factor keys, labels, reasons, tips and ``history`` from
        ``scoring.facts.FACTOR_WORDS``. Raises ``ValueError`` for a column that is not a
        scorable fact."""
        raise NotImplementedError

    def as_json(self) -> dict[str, Any]:
        """The model for ``--out``: base, and per column its bins (``from`` or
        ``categories``) with points, and ``missing_points``; any columns."""
        raise NotImplementedError


class FitError(ValueError):
    """Data the fit cannot use, in words an analyst can act on (one class only, too few
    rows, no column left)."""


def fit(
    table: pd.DataFrame,
    bad: np.ndarray,
    columns: Sequence[ColumnSpec],
    options: FitOptions = FitOptions(),
) -> FittedModel:
    """Fit on ``table``'s ``columns`` (floats with NaN for absent, strings for
    categorical) against ``bad`` (bool, one per row)."""
    raise NotImplementedError


# --- Validation figures ----------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    count: int
    bad: int
    auc: float
    """Of "good" ranked by score (0.5 is chance, 1 perfect)."""
    gini: float
    """2 * AUC - 1."""
    ks: float
    """The largest gap between the cumulative shares of goods and bads by score."""


def metrics(scores: np.ndarray, bad: np.ndarray) -> Metrics:
    raise NotImplementedError


@dataclass(frozen=True)
class RateRow:
    """The bad rate of a slice of rows: a band (``label`` its code) or a score decile
    (``label`` "1".."10", lowest scores first; ``low``..``high`` its scores)."""

    label: str
    low: int
    high: int
    count: int
    bad: int

    @property
    def bad_rate(self) -> float:
        return self.bad / self.count if self.count else 0.0


def decile_rates(scores: np.ndarray, bad: np.ndarray) -> list[RateRow]:
    """Ten slices by score, lowest first, cut at the deciles (rows with the same score
    stay together, so a slice may be empty or larger than a tenth)."""
    raise NotImplementedError


def band_rates(scores: np.ndarray, bad: np.ndarray) -> list[RateRow]:
    """One row per band, worst first (``scoring.facts.BAND_CODES``)."""
    raise NotImplementedError


def roc_curve_points(
    scores: np.ndarray, bad: np.ndarray, *, most: int = 101
) -> list[tuple[float, float]]:
    """The ROC curve (false positive rate, true positive rate of finding the bad by a low
    score), thinned to at most ``most`` points, from (0, 0) to (1, 1)."""
    raise NotImplementedError


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability of two score distributions over the bands: sum over bands of
    (actual share - expected share) * ln(actual share / expected share), shares floored at
    0.0001."""
    raise NotImplementedError


def selection_ratio(
    scores: np.ndarray, groups: Sequence[Any], *, approval: float = 0.7
) -> tuple[float, dict[str, float]]:
    """Approve the best-scored ``approval`` share (every row scoring at least the score of
    the ceil(approval * n)-th best); the lowest group's approval rate over the highest's,
    and each group's rate. Rows whose group is missing (None, NaN, "") are left out."""
    raise NotImplementedError


def out_of_time_split(taken_at: np.ndarray, *, test_share: float = 0.25) -> np.ndarray:
    """A boolean mask of the test rows: those taken in the newest ``test_share`` of the
    period from the first to the last moment (``taken_at``: epoch seconds)."""
    raise NotImplementedError


# --- The command line -----------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scoring.fitting fit --csv FILE --target COL --bad VALUE ...``."""
    raise NotImplementedError


_ = (Mapping, field)

if __name__ == "__main__":
    raise SystemExit(main())

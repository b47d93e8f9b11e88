"""Fitting a scorecard to outcomes: monotone bins, weights of evidence, a logistic
regression, and points on our scale. Pure (no database, no Django): a table of columns and
a binary outcome in, a fitted model out, which says itself as a scorecard definition that
``scoring.scorecard`` accepts unchanged.

- Bins: optbinning's ``OptimalBinning`` per column (through ``BinningProcess``), with a
  monotonic trend of the bad rate in the fact's good direction (``descending`` when more
  is better, ``ascending`` when less is better, ``auto_asc_desc`` for a column whose
  direction is not known), at most ``max_bins`` bins of at least ``min_bin_share`` of the
  rows each. Categorical columns (the command line's ``--categorical``) are grouped by
  their weight of evidence, with no trend. A column whose best binning is a single bin
  says nothing and is dropped.
- Absent values: a fact the registry scores "as if" a value when absent
  (``missing_as``, the share of stays completed well as 50%) is filled with that value
  before binning, so absence earns exactly that value's points, as a scorecard's
  validation demands. Any other absent value (and, for a categorical column, a category
  the training rows never had) gets a bin of its own: ``missing_points``.
- Whole-number facts: optbinning cuts between two values (2.5); a bin then starts at the
  next whole value (3), the first at the fact's minimum.
- Weights of evidence as optbinning defines them: ln(share of goods / share of bads) of
  the bin (higher is better); a bin with no good or no bad (only ever the missing bin:
  the others must hold one of each) has a weight of 0, as optbinning's own transform
  gives it.
- scikit-learn's ``LogisticRegression`` of "bad" on the columns' weights of evidence,
  with hardly any regularisation (the bins already smooth). A column whose coefficient
  comes out with the wrong sign (a better bin would cost points, which two correlated
  columns can cause) is dropped, the worst first, and the regression fitted again,
  until every sign is right: points never go down as a fact gets better.
- Points: ``factor = pdo / ln 2``, ``offset = base_score - factor * ln(base_odds)``
  (``base_odds`` by default the training rows' own odds of good to bad, so that the base
  score is the risk of the average row whatever the outcome's bad rate)
  (odds of good to bad); a bin earns ``-factor * coefficient * woe``, the base
  ``offset - factor * intercept``; each column's points are shifted so its worst bin
  (the missing bin included) earns 0 (the shift goes to the base) and everything is
  rounded to whole points. The score is the base plus the points, clipped to 350..950
  as ``scoring.scorecard`` does.

The command line (``python -m scoring.fitting fit --csv ...``, ``main``) fits any CSV
the same way and imports nothing of Django.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from scoring.facts import BAND_CODES, BANDS, FACTOR_WORDS, FACTS, band_for
from scoring.scorecard import SCORE_MAX, SCORE_MIN

Direction = Literal["higher_is_better", "lower_is_better", "auto"]

# Fewer rows than this cannot fill five bins of 5% with goods and bads in each.
MIN_ROWS = 200
# Weak regularisation: the weights of evidence are already smoothed by the binning, and
# a strong penalty would shrink the points of every column towards zero.
REGRESSION_C = 1e6

SINGLE_BIN = "a single bin: it does not separate good from bad"
WRONG_SIGN = "its weight came out with the wrong sign next to the other columns"
SAME_POINTS = "its points round to the same for every value: it changes no score"

_TRENDS: dict[Direction, str] = {
    "higher_is_better": "descending",  # the bad rate falls as the value rises
    "lower_is_better": "ascending",
    "auto": "auto_asc_desc",
}


@dataclass(frozen=True)
class FitOptions:
    pdo: float = 40.0
    """Points to double the odds of good to bad."""
    base_score: int = 600
    base_odds: float | None = None
    """The odds of good to bad at ``base_score`` (9: one in ten bad). None: the training
    rows' own odds, so the base score is average risk. A stated odds suits an outcome
    whose bad rate is known and stable; an outcome as broad as ours (any overdue bill in
    a year) is bad for half of some populations, and odds of 9 would put everyone in the
    lowest band."""
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
    optional: bool = False
    """May be absent (``Fact.optional``): the column gets its missing bin even when no
    training row lacks the value, so that a scorecard can score the absence."""

    @classmethod
    def from_fact(cls, key: str) -> ColumnSpec:
        """The spec of a scorable registry fact (``scoring.facts.FACTS``)."""
        fact = FACTS.get(key)
        if fact is None or not fact.scorable or key not in FACTOR_WORDS:
            raise ValueError(f"{key!r} is not a scorable fact.")
        return cls(
            name=key,
            direction="higher_is_better" if fact.higher_is_better else "lower_is_better",
            integer=True,
            minimum=fact.minimum,
            maximum=fact.maximum,
            missing_as=fact.missing_scored_as,
            optional=fact.optional,
        )


@dataclass(frozen=True)
class FittedBin:
    """One bin: numeric ``start`` (None for a categorical bin) or ``categories``; the
    rows of the training data in it, their bad rate, its weight of evidence and points.
    The missing bin of an optional column is not among the bins (``FittedColumn.missing``).
    For a column scored "as if" a value when absent (``ColumnSpec.missing_as``), the
    missing bin counts the rows that lacked the value and has the weight and points of
    that value's bin."""

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

    @property
    def categorical(self) -> bool:
        return self.bins[0].categories is not None

    def points_of(self, values: Any) -> np.ndarray:
        """The points (int64) each value earns: a number falls in the last bin starting
        at or below it (the first bin below its start), a category in its group; an
        absent value (NaN, None) or a category never seen earns ``missing``'s points, or
        0 without a missing bin (as ``scoring.scorecard`` scores a factor without
        ``missing_points``)."""
        missing = self.missing.points if self.missing is not None else 0
        bin_points = np.array([b.points for b in self.bins], dtype=np.int64)
        series = pd.Series(values)
        absent = series.isna().to_numpy().copy()
        if self.categorical:
            by_category = {c: b.points for b in self.bins for c in b.categories or ()}
            points = _looked_up(series, by_category, missing)
        else:
            starts = np.array([b.start for b in self.bins], dtype=float)
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
            absent |= np.isnan(numbers)
            index = np.searchsorted(starts, np.nan_to_num(numbers), side="right") - 1
            points = bin_points[np.clip(index, 0, len(starts) - 1)]
        return np.where(absent, missing, points).astype(np.int64)


def _looked_up(values: Any, table: dict[str, int], default: int) -> np.ndarray:
    """Each value's entry in ``table`` by its text (int64); ``default`` for an absent
    value or one not in it."""
    series = pd.Series(values, dtype=object)
    present = series.notna()
    found = pd.Series(default, index=series.index, dtype=np.int64)
    looked = series[present].astype(str).map(table)
    found[present] = looked.fillna(default).astype(np.int64)
    return found.to_numpy()


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
    base_odds: float
    """The odds of good to bad at ``options.base_score`` the points were scaled to (the
    training rows' own when ``options.base_odds`` is None)."""

    def score(self, table: pd.DataFrame) -> np.ndarray:
        """Scores (int64, clipped to 350..950) of the rows of ``table`` (the fitted
        columns; NaN is absent)."""
        total = np.full(len(table), self.base_points, dtype=np.int64)
        for column in self.columns:
            total += column.points_of(table[column.name].to_numpy())
        return np.clip(total, SCORE_MIN, SCORE_MAX)

    def definition(self) -> dict[str, Any]:
        """The scorecard definition (``scoring.scorecard``'s shape) of a model fitted
        on registry facts: factor keys, labels, reasons, tips and ``history`` from
        ``scoring.facts.FACTOR_WORDS``. Raises ``ValueError`` for a column that is not a
        scorable fact."""
        factors = []
        for column in self.columns:
            fact = FACTS.get(column.name)
            words = FACTOR_WORDS.get(column.name)
            if fact is None or words is None or not fact.scorable or column.categorical:
                raise ValueError(f"{column.name!r} is not a scorable fact.")
            bins = []
            for fitted in column.bins:
                start = float(fitted.start if fitted.start is not None else math.nan)
                if not start.is_integer():
                    raise ValueError(f"{column.name!r} has a bin starting at {start}.")
                bins.append({"from": int(start), "points": fitted.points})
            factor: dict[str, Any] = {
                "key": words.key,
                "fact": column.name,
                "label": words.label,
                "reason": words.reason,
                "tip": words.tip,
                "history": words.history,
                "bins": bins,
            }
            if fact.optional:
                factor["missing_points"] = column.missing.points if column.missing else 0
            factors.append(factor)
        return {"base_points": self.base_points, "factors": factors}

    def as_json(self) -> dict[str, Any]:
        """The model for ``--out``: base, and per column its bins (``from`` or
        ``categories``) with points, and ``missing_points``; any columns."""

        def said(fitted: FittedBin) -> dict[str, Any]:
            where: dict[str, Any]
            if fitted.categories is not None:
                where = {"categories": list(fitted.categories)}
            else:
                where = {"from": _plain_number(fitted.start)}
            return {**where, "points": fitted.points, "count": fitted.count, "bad": fitted.bad}

        columns = []
        for column in self.columns:
            said_column: dict[str, Any] = {
                "name": column.name,
                "iv": round(column.iv, 6),
                "coefficient": round(column.coefficient, 6),
                "bins": [said(b) for b in column.bins],
            }
            if column.missing is not None:
                said_column["missing_points"] = column.missing.points
            columns.append(said_column)
        return {
            "base_points": self.base_points,
            "columns": columns,
            "dropped": [asdict(d) for d in self.dropped],
            "options": asdict(self.options),
            "base_odds": round(self.base_odds, 6),
        }


def _plain_number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


class FitError(ValueError):
    """Data the fit cannot use, in words an analyst can act on (one class only, too few
    rows, no column left)."""


@dataclass
class _Binned:
    """One column as optbinning binned it, before the regression."""

    spec: ColumnSpec
    values: np.ndarray  # float (NaN absent, ``missing_as`` filled) or object (categories)
    splits: np.ndarray  # numeric: optbinning's cut points
    groups: list[tuple[str, ...]]  # categorical: the groups of categories
    woe: np.ndarray  # per bin
    missing_woe: float
    iv: float
    has_missing: bool
    absent: np.ndarray  # bool: the rows that lacked a value (before ``missing_as``)
    row_woe: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def bin_index(self, values: np.ndarray) -> np.ndarray:
        """Each value's bin by optbinning's cuts; -1 for absent (or unseen) values."""
        if self.spec.categorical:
            group_of = {c: i for i, group in enumerate(self.groups) for c in group}
            return _looked_up(values, group_of, -1)
        numbers = values.astype(float)
        index = np.searchsorted(self.splits, np.nan_to_num(numbers), side="right")
        return np.where(np.isnan(numbers), -1, index)


def _finite(value: Any) -> float:
    """A weight of evidence as optbinning's transform uses it: 0 where it is not finite
    (a bin with no good or no bad, or an empty one)."""
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _prepared(values: pd.Series, spec: ColumnSpec) -> np.ndarray:
    if spec.categorical:
        return np.array([None if pd.isna(v) else str(v) for v in values], dtype=object)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    if spec.missing_as is not None:
        numbers = np.where(np.isnan(numbers), spec.missing_as, numbers)
    return numbers


def _binned(
    table: pd.DataFrame, bad: np.ndarray, columns: Sequence[ColumnSpec], options: FitOptions
) -> list[_Binned]:
    # optbinning's import is slow (its solvers): paid only by a fit.
    from optbinning import BinningProcess

    names = [spec.name for spec in columns]
    frame = pd.DataFrame({spec.name: _prepared(table[spec.name], spec) for spec in columns})
    # Every bin holds goods and bads, so that its weight of evidence is finite; a
    # category has no order to keep, a number its direction's.
    params = {
        spec.name: {
            "monotonic_trend": None if spec.categorical else _TRENDS[spec.direction],
            "min_bin_n_event": 1,
            "min_bin_n_nonevent": 1,
        }
        for spec in columns
    }
    process = BinningProcess(
        names,
        max_n_bins=options.max_bins,
        min_bin_size=options.min_bin_share,
        min_prebin_size=min(options.min_bin_share, 0.05),
        categorical_variables=[spec.name for spec in columns if spec.categorical],
        binning_fit_params=params,
    )
    with warnings.catch_warnings():
        # optbinning's tables set their totals row in a way pandas means to stop
        # allowing; the figures are right, the notice is for optbinning's authors.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            process.fit(frame, bad.astype(int))
        except ValueError as error:  # what optbinning and scikit-learn say of bad data
            raise FitError(f"the columns cannot be binned ({error})") from error
    binned = []
    for spec in columns:
        optimal = process.get_binned_variable(spec.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # as above
            table_of_bins = optimal.binning_table.build()
        kinds = table_of_bins["Bin"].astype(str)
        regular = table_of_bins[~kinds.isin(["Special", "Missing"]) & (kinds.index != "Totals")]
        missing_row = table_of_bins[kinds == "Missing"].iloc[0]
        values = frame[spec.name].to_numpy()
        absent = pd.isna(table[spec.name]).to_numpy()
        if spec.categorical:
            groups = [tuple(str(c) for c in group) for group in optimal.splits]
            splits = np.zeros(0)
        else:
            groups = []
            splits = np.asarray(optimal.splits, dtype=float)
        column = _Binned(
            spec=spec,
            values=values,
            splits=splits,
            groups=groups,
            woe=np.array([_finite(w) for w in regular["WoE"]]),
            missing_woe=_finite(missing_row["WoE"]),
            iv=float(table_of_bins.loc["Totals", "IV"]),
            has_missing=bool(
                spec.optional or spec.categorical or spec.missing_as is not None or absent.any()
            ),
            absent=absent,
        )
        index = column.bin_index(values)
        column.row_woe = np.where(index < 0, column.missing_woe, column.woe[np.maximum(index, 0)])
        binned.append(column)
    return binned


def _says_something(column: _Binned) -> bool:
    """Whether the rows fall in at least two bins (the missing bin counts)."""
    index = column.bin_index(column.values)
    return len(np.unique(index)) >= 2


def _regression(columns: list[_Binned], bad: np.ndarray) -> tuple[list[float], float, int | None]:
    """Coefficients and intercept of the regression of bad on the columns' weights of
    evidence; and the index of the column with the worst wrong sign, if any."""
    from sklearn.linear_model import LogisticRegression

    design = np.column_stack([column.row_woe for column in columns])
    model = LogisticRegression(C=REGRESSION_C, max_iter=1000)
    model.fit(design, bad.astype(int))
    coefficients = [float(c) for c in model.coef_[0]]
    worst = int(np.argmax(coefficients))
    # More good (a higher weight of evidence) must mean less bad: a negative coefficient.
    wrong = worst if coefficients[worst] >= 0 else None
    return coefficients, float(model.intercept_[0]), wrong


def fit(
    table: pd.DataFrame,
    bad: np.ndarray,
    columns: Sequence[ColumnSpec],
    options: FitOptions = FitOptions(),
) -> FittedModel:
    """Fit on ``table``'s ``columns`` (floats with NaN for absent, strings for
    categorical) against ``bad`` (bool, one per row)."""
    bad = np.asarray(bad, dtype=bool)
    if len(bad) != len(table):
        raise FitError(f"the outcome has {len(bad)} values for {len(table)} rows")
    if len(bad) < MIN_ROWS:
        raise FitError(f"fewer than {MIN_ROWS} rows ({len(bad)}): too few to fit bins")
    if bad.all() or not bad.any():
        raise FitError(
            "the outcome has only one value: every row is " + ("bad" if bad.all() else "good")
        )
    if options.pdo <= 0 or (options.base_odds is not None and options.base_odds <= 0):
        raise FitError("the points to double the odds and the base odds must be above 0")
    if options.max_bins < 2 or not 0 < options.min_bin_share <= 0.5:
        raise FitError("at least 2 bins, each of a share of the rows above 0 and at most 0.5")
    names = [spec.name for spec in columns]
    if not names:
        raise FitError("no column to fit")
    if len(set(names)) != len(names):
        raise FitError("a column is named twice")
    absent = [name for name in names if name not in table.columns]
    if absent:
        raise FitError(f"no column {absent[0]!r} in the table")

    dropped: list[DroppedColumn] = []
    kept: list[_Binned] = []
    # A column without a single value (once ``missing_as`` fills in) has nothing to bin.
    empty = {
        spec.name for spec in columns if spec.missing_as is None and table[spec.name].isna().all()
    }
    dropped.extend(DroppedColumn(name, 0.0, SINGLE_BIN) for name in names if name in empty)
    binnable = [spec for spec in columns if spec.name not in empty]
    for column in _binned(table, bad, binnable, options) if binnable else []:
        if _says_something(column):
            kept.append(column)
        else:
            dropped.append(DroppedColumn(column.spec.name, column.iv, SINGLE_BIN))
    coefficients: list[float] = []
    intercept = 0.0
    while kept:
        coefficients, intercept, wrong = _regression(kept, bad)
        if wrong is None:
            break
        column = kept.pop(wrong)
        dropped.append(DroppedColumn(column.spec.name, column.iv, WRONG_SIGN))
    if not kept:
        raise FitError("no column separates good from bad")
    return _scaled(kept, coefficients, intercept, bad, dropped, options)


@dataclass
class _Scaled:
    """A column's bins with points before rounding, and where its rows fall."""

    column: _Binned
    coefficient: float
    starts: list[float | None]
    groups: list[tuple[str, ...] | None]
    woe: list[float]
    points: list[float]
    missing_woe: float
    missing_points: float | None  # None: no missing bin
    rows_bin: np.ndarray  # each training row's bin in ``starts``/``groups``; -1 missing

    @property
    def worst(self) -> float:
        candidates = list(self.points)
        if self.missing_points is not None:
            candidates.append(self.missing_points)
        return min(candidates)


def _final_bins(
    column: _Binned,
) -> tuple[list[float | None], list[tuple[str, ...] | None], list[float]]:
    """The bins as a scorecard states them: (starts, groups, weights of evidence).

    A numeric bin starts where optbinning cut (at the next whole value for a whole-number
    column: optbinning puts 3 above a cut at 2.5, so the bin starts at 3), the first at the
    column's minimum (the least training value when none is known). A cut at or below
    the minimum or above the maximum leaves a bin no allowed value falls in, and two cuts
    between the same whole values leave an empty one: such a bin is dropped, and each bin
    left keeps the weight of the optbinning bin its start falls in. Those are a
    subsequence of a monotone sequence, so the points stay monotone, and every allowed
    value earns what it earned in the fit.
    """
    if column.spec.categorical:
        return [None] * len(column.groups), list(column.groups), list(column.woe)
    spec = column.spec
    present = column.values[~np.isnan(column.values)]
    if spec.minimum is not None:
        first = float(spec.minimum)
    else:
        first = float(present.min()) if len(present) else 0.0
        if spec.integer:
            first = float(math.floor(first))
    edges = [float(math.ceil(cut)) if spec.integer else float(cut) for cut in column.splits]
    starts = [first]
    for edge in edges:
        if edge > starts[-1] and (spec.maximum is None or edge <= spec.maximum):
            starts.append(edge)
    woe = [
        float(column.woe[np.searchsorted(column.splits, start, side="right")]) for start in starts
    ]
    return list(starts), [None] * len(starts), woe


def _bins_of_numbers(starts: Sequence[float | None], values: np.ndarray) -> np.ndarray:
    """The bin each number falls in: the last starting at or below it, the first for a
    number below every start (as ``scoring.scorecard`` finds it); NaN gives -1."""
    numbers = np.asarray(values, dtype=float)
    edges = np.array([s if s is not None else -np.inf for s in starts], dtype=float)
    index = np.clip(np.searchsorted(edges, np.nan_to_num(numbers), side="right") - 1, 0, None)
    return np.where(np.isnan(numbers), -1, index)


def _bin_of_number(starts: Sequence[float | None], value: float) -> int:
    return int(_bins_of_numbers(starts, np.array([value]))[0])


def _scaled(
    columns: list[_Binned],
    coefficients: list[float],
    intercept: float,
    bad: np.ndarray,
    dropped: list[DroppedColumn],
    options: FitOptions,
) -> FittedModel:
    """Points on our scale (the module's docstring says how)."""
    factor = options.pdo / math.log(2)
    odds = options.base_odds
    if odds is None:  # the training rows' own (both outcomes occur: checked before)
        odds = float((~bad).sum() / bad.sum())
    offset = options.base_score - factor * math.log(odds)
    base = offset - factor * intercept
    scaled: list[_Scaled] = []
    for column, coefficient in zip(columns, coefficients, strict=True):
        starts, groups, woe = _final_bins(column)
        points = [-factor * coefficient * w for w in woe]
        missing_woe: float = column.missing_woe
        missing_points: float | None = None
        if column.spec.missing_as is not None:
            # Absent scores exactly as the value it is taken for.
            at = _bin_of_number(starts, column.spec.missing_as)
            missing_woe, missing_points = woe[at], points[at]
        elif column.has_missing:
            missing_points = -factor * coefficient * missing_woe
        # Where each training row falls; -1: absent (the missing bin counts those rows,
        # also when they are scored as ``missing_as``) or a category never grouped.
        if column.spec.categorical:
            rows_bin = column.bin_index(column.values)
        else:
            rows_bin = _bins_of_numbers(starts, column.values)
        rows_bin = np.where(column.absent, -1, rows_bin)
        scaled.append(
            _Scaled(
                column,
                coefficient,
                starts,
                groups,
                woe,
                points,
                missing_woe,
                missing_points,
                rows_bin,
            )
        )
        base += scaled[-1].worst

    base_points = round(base)
    # The definition's base must lie in 0..950 (``scoring.scorecard``). A strong column
    # whose worst bin is very bad can pull it below 0 (or a population of mostly goods
    # above 950): the excess then moves into the columns, spread evenly, all of one
    # column's points moved by the same amount. Every score stays what it was and the
    # points stay monotone; only "the worst bin earns 0" gives way.
    moved = base_points - min(max(base_points, 0), SCORE_MAX)
    base_points -= moved
    spread = [moved // len(scaled)] * len(scaled)
    for index in range(moved - sum(spread)):
        spread[index] += 1

    fitted = []
    for shaped, extra in zip(scaled, spread, strict=True):
        worst = shaped.worst
        bins = tuple(
            FittedBin(
                start=start,
                categories=group,
                count=int((shaped.rows_bin == position).sum()),
                bad=int(bad[shaped.rows_bin == position].sum()),
                woe=woe,
                points=round(points - worst) + extra,
            )
            for position, (start, group, woe, points) in enumerate(
                zip(shaped.starts, shaped.groups, shaped.woe, shaped.points, strict=True)
            )
        )
        missing = None
        if shaped.missing_points is not None:
            missing = FittedBin(
                start=None,
                categories=None,
                count=int((shaped.rows_bin < 0).sum()),
                bad=int(bad[shaped.rows_bin < 0].sum()),
                woe=shaped.missing_woe,
                points=round(shaped.missing_points - worst) + extra,
            )
        fitted.append(
            FittedColumn(
                shaped.column.spec.name, bins, missing, shaped.column.iv, shaped.coefficient
            )
        )
    base_points, kept = _without_constant_columns(base_points, fitted, dropped)
    return FittedModel(base_points, tuple(kept), tuple(dropped), intercept, options, odds)


def _without_constant_columns(
    base_points: int, fitted: list[FittedColumn], dropped: list[DroppedColumn]
) -> tuple[int, list[FittedColumn]]:
    """The columns whose every bin earns the same whole points (a weak column on a
    narrow scale) moved into the base and listed as dropped: a factor that changes no
    score would only show the citizen a line that says nothing. Every score stays what
    it was; the last column stays, and so does one the base has no room for."""
    kept = list(fitted)
    for column in fitted:
        points = {b.points for b in column.bins}
        if column.missing is not None:
            points.add(column.missing.points)
        if len(points) != 1 or len(kept) == 1:
            continue
        (same,) = points
        if not 0 <= base_points + same <= SCORE_MAX:
            continue
        base_points += same
        kept.remove(column)
        dropped.append(DroppedColumn(column.name, column.iv, SAME_POINTS))
    return base_points, kept


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
    """AUC, Gini and KS of the scores against the outcomes. Rows of one class only give
    nothing to rank: AUC 0.5, Gini 0, KS 0."""
    from sklearn.metrics import roc_auc_score, roc_curve

    scores = np.asarray(scores, dtype=float)
    bad = np.asarray(bad, dtype=bool)
    count, bads = len(bad), int(bad.sum())
    if bads in (0, count):
        return Metrics(count, bads, 0.5, 0.0, 0.0)
    auc = float(roc_auc_score(~bad, scores))
    # Finding the bad by a low score: the gap between the share of bads and the share of
    # goods at or below each score, at its widest.
    false_positive, true_positive, _ = roc_curve(bad, -scores)
    ks = float(np.max(true_positive - false_positive))
    return Metrics(count, bads, auc, 2 * auc - 1, ks)


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
    stay together, so a slice may be empty or larger than a tenth).

    Slice k holds the scores above the (k-1)th decile up to the kth (numpy's quantiles,
    interpolated); ``low``..``high`` are the least and most score in it (an empty slice
    says its cut for both)."""
    scores = np.asarray(scores, dtype=float)
    bad = np.asarray(bad, dtype=bool)
    if len(scores) == 0:
        return [RateRow(str(k), 0, 0, 0, 0) for k in range(1, 11)]
    cuts = np.quantile(scores, np.arange(1, 10) / 10)
    slices = np.searchsorted(cuts, scores, side="left")
    rows = []
    for k in range(10):
        members = slices == k
        if members.any():
            low, high = int(scores[members].min()), int(scores[members].max())
        else:
            low = high = round(float(cuts[min(k, 8)]))
        rows.append(RateRow(str(k + 1), low, high, int(members.sum()), int(bad[members].sum())))
    return rows


def band_rates(scores: np.ndarray, bad: np.ndarray) -> list[RateRow]:
    """One row per band, worst first (``scoring.facts.BAND_CODES``); ``low``..``high``
    the band's scores."""
    scores = np.asarray(scores, dtype=int)
    bad = np.asarray(bad, dtype=bool)
    bands = np.array([band_for(int(score)) for score in scores], dtype=object)
    lowest = {code: low for low, code, _ in BANDS}
    rows = []
    for position, code in enumerate(BAND_CODES):
        upper = BAND_CODES[position + 1] if position + 1 < len(BAND_CODES) else None
        high = lowest[upper] - 1 if upper is not None else SCORE_MAX
        low = max(lowest[code], SCORE_MIN)
        members = bands == code
        rows.append(RateRow(code, low, high, int(members.sum()), int(bad[members].sum())))
    return rows


def roc_curve_points(
    scores: np.ndarray, bad: np.ndarray, *, most: int = 101
) -> list[tuple[float, float]]:
    """The ROC curve (false positive rate, true positive rate of finding the bad by a low
    score), thinned to at most ``most`` points, from (0, 0) to (1, 1)."""
    from sklearn.metrics import roc_curve

    scores = np.asarray(scores, dtype=float)
    bad = np.asarray(bad, dtype=bool)
    if bad.all() or not bad.any():
        return [(0.0, 0.0), (1.0, 1.0)]
    false_positive, true_positive, _ = roc_curve(bad, -scores)
    keep = np.unique(np.round(np.linspace(0, len(false_positive) - 1, max(most, 2))).astype(int))
    return [(float(false_positive[i]), float(true_positive[i])) for i in keep]


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability of two score distributions over the bands: sum over bands of
    (actual share - expected share) * ln(actual share / expected share), shares floored at
    0.0001."""

    def shares(scores: np.ndarray) -> np.ndarray:
        codes = [band_for(int(score)) for score in np.asarray(scores)]
        counts = np.array([codes.count(code) for code in BAND_CODES], dtype=float)
        total = counts.sum()
        return np.maximum(counts / total if total else counts, 0.0001)

    before, after = shares(expected), shares(actual)
    return float(np.sum((after - before) * np.log(after / before)))


def selection_ratio(
    scores: np.ndarray, groups: Sequence[Any], *, approval: float = 0.7
) -> tuple[float, dict[str, float]]:
    """Approve the best-scored ``approval`` share (every row scoring at least the score of
    the ceil(approval * n)-th best); the lowest group's approval rate over the highest's,
    and each group's rate. Rows whose group is missing (None, NaN, "") are left out.

    The share is taken of all the rows (who is approved does not depend on whether their
    group is known); groups are named by their text. No group, or no group approved at
    all, gives a ratio of 1."""
    scores = np.asarray(scores, dtype=float)
    if len(scores) == 0:
        return 1.0, {}
    best_first = np.sort(scores)[::-1]
    threshold = best_first[min(max(math.ceil(approval * len(scores)), 1), len(scores)) - 1]
    approved = scores >= threshold
    names = np.array([None if _is_absent(group) else str(group) for group in groups])
    rates: dict[str, float] = {}
    for name in sorted({n for n in names if n is not None}):
        rates[name] = float(approved[names == name].mean())
    if not rates or max(rates.values()) == 0:
        return 1.0, rates
    return min(rates.values()) / max(rates.values()), rates


def _is_absent(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def out_of_time_split(taken_at: np.ndarray, *, test_share: float = 0.25) -> np.ndarray:
    """A boolean mask of the test rows: those taken in the newest ``test_share`` of the
    period from the first to the last moment (``taken_at``: epoch seconds), the cut
    itself included (from 0 to 100, 25%: those taken at 75 or later). A period of one
    moment has no newest part: no test rows."""
    taken_at = np.asarray(taken_at, dtype=float)
    if len(taken_at) == 0:
        return np.zeros(0, dtype=bool)
    first, last = taken_at.min(), taken_at.max()
    cut = last - test_share * (last - first)
    return np.asarray(taken_at >= cut) if last > first else np.zeros(len(taken_at), bool)


# --- The command line -----------------------------------------------------------------


class _BadInput(Exception):
    """Input the command line refuses, said in one line (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        # argparse's hook for a bad command line: say it our way, not exit from within.
        raise _BadInput(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m scoring.fitting",
        description="Fit a scorecard (monotone bins, weights of evidence, a logistic "
        "regression, points) to the outcomes in a CSV file.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    fitting = commands.add_parser("fit", help="fit on a CSV and report on a test file")
    fitting.add_argument("--csv", required=True, type=Path, help="the training rows")
    fitting.add_argument("--target", required=True, help="the column of the outcome")
    fitting.add_argument("--bad", required=True, help="the target's value meaning bad")
    fitting.add_argument("--categorical", default="", help="columns of categories, a,b,...")
    fitting.add_argument("--exclude", default="", help="columns left out of the fit")
    fitting.add_argument("--test-csv", type=Path, help="the test rows (default: 25%% held out)")
    fitting.add_argument("--audit", default="", help="columns to compare approval rates by")
    fitting.add_argument("--approval", type=float, default=0.7, help="share approved (0.7)")
    fitting.add_argument("--out", type=Path, help="write the fitted model here (JSON)")
    return parser


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text (a number is checked where it is needed); empty cells, NA and
    the like are absent."""
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except FileNotFoundError as error:
        raise _BadInput(f"{path}: no such file") from error
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise _BadInput(f"{path}: not a readable CSV file ({reason})") from error
    frame.columns = [str(name).strip() for name in frame.columns]
    if frame.columns.duplicated().any():
        twice = frame.columns[frame.columns.duplicated()][0]
        raise _BadInput(f"{path}: the column {twice!r} is there twice")
    return frame


def _need_columns(frame: pd.DataFrame, names: Sequence[str], path: Path) -> None:
    for name in names:
        if name not in frame.columns:
            raise _BadInput(f"{path}: no column {name!r} (it has: {', '.join(frame.columns)})")


def _numbers(frame: pd.DataFrame, name: str, path: Path) -> pd.Series:
    """A numeric column's values (NaN where empty); a cell that is not a number is
    refused with its line (the header is line 1)."""
    text = frame[name]
    numbers = pd.to_numeric(text, errors="coerce")
    wrong = numbers.isna() & text.notna()
    if wrong.any():
        row = int(np.flatnonzero(wrong.to_numpy())[0])
        raise _BadInput(
            f"{path}, line {row + 2}: {name} is {text.iloc[row]!r}, not a number "
            f"(if {name} holds categories, name it in --categorical)"
        )
    return numbers.astype(float)


def _outcome(frame: pd.DataFrame, target: str, bad_value: str, path: Path) -> np.ndarray:
    values = frame[target].str.strip()
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise _BadInput(f"{path}, line {row + 2}: the target {target} is empty")
    bad = (values == bad_value.strip()).to_numpy()
    if not bad.any():
        seen = ", ".join(sorted(values.unique())[:5])
        raise _BadInput(
            f"{path}: the target {target} never has the bad value {bad_value!r} (it has: {seen})"
        )
    if bad.all():
        raise _BadInput(f"{path}: the target {target} has only one value ({bad_value!r})")
    return bad


def _specs(names: Sequence[str], categorical: set[str]) -> list[ColumnSpec]:
    """Numeric columns of unknown direction, except categories and columns named like a
    scorable registry fact (which take its direction and range)."""
    specs = []
    for name in names:
        if name in categorical:
            specs.append(ColumnSpec(name, categorical=True))
        elif name in FACTOR_WORDS:
            specs.append(ColumnSpec.from_fact(name))
        else:
            specs.append(ColumnSpec(name))
    return specs


def _frame(frame: pd.DataFrame, specs: Sequence[ColumnSpec], path: Path) -> pd.DataFrame:
    return pd.DataFrame(
        {
            spec.name: frame[spec.name] if spec.categorical else _numbers(frame, spec.name, path)
            for spec in specs
        },
        index=frame.index,
    )


def _number_text(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _print_model(model: FittedModel, out: Any) -> None:
    for column in model.columns:
        print(f"{column.name} (IV {column.iv:.3f}, coefficient {column.coefficient:.3f})", file=out)
        for fitted in column.bins:
            where = (
                ", ".join(fitted.categories)
                if fitted.categories is not None
                else f"from {_number_text(fitted.start)}"
            )
            rate = fitted.bad / fitted.count if fitted.count else 0.0
            print(
                f"  {where}: {fitted.points:+d} points ({fitted.count} rows, bad rate {rate:.1%})",
                file=out,
            )
        if column.missing is not None:
            missing = column.missing
            rate = missing.bad / missing.count if missing.count else 0.0
            print(
                f"  missing: {missing.points:+d} points "
                f"({missing.count} rows, bad rate {rate:.1%})",
                file=out,
            )
    for dropped in model.dropped:
        print(f"dropped {dropped.name} (IV {dropped.iv:.3f}): {dropped.why}", file=out)
    options = model.options
    print(
        f"base points {model.base_points} ({options.base_score} at odds of "
        f"{model.base_odds:.3g} good to 1 bad, {options.pdo:g} points to double them)",
        file=out,
    )


def _fit_command(arguments: argparse.Namespace, out: Any) -> None:
    options = FitOptions()
    if not 0 < arguments.approval <= 1:
        raise _BadInput(
            f"--approval must be a share above 0 and at most 1, not {arguments.approval}"
        )
    train = _read_csv(arguments.csv)
    target = arguments.target.strip()
    categorical, excluded, audited = (
        set(_names(arguments.categorical)),
        set(_names(arguments.exclude)),
        _names(arguments.audit),
    )
    _need_columns(train, [target, *sorted(categorical), *sorted(excluded), *audited], arguments.csv)
    for name in audited:
        if name in categorical:
            raise _BadInput(
                f"--audit {name}: an audited column is not fitted; take it out of --categorical"
            )
        if name == target:
            raise _BadInput(f"--audit {name}: that is the target")
    if target in categorical | excluded:
        raise _BadInput(f"the target {target} cannot be fitted or excluded")
    names = [n for n in train.columns if n != target and n not in excluded and n not in audited]
    if not names:
        raise _BadInput(f"{arguments.csv}: no column is left to fit")
    specs = _specs(names, categorical)
    bad = _outcome(train, target, arguments.bad, arguments.csv)
    table = _frame(train, specs, arguments.csv)

    if arguments.test_csv is not None:
        test = _read_csv(arguments.test_csv)
        _need_columns(test, [target, *names, *audited], arguments.test_csv)
        test_bad = _outcome(test, target, arguments.bad, arguments.test_csv)
        test_table = _frame(test, specs, arguments.test_csv)
        test_groups = test
        print(
            f"fitting on {len(table)} rows of {arguments.csv}, testing on "
            f"{len(test_table)} rows of {arguments.test_csv}",
            file=out,
        )
    else:
        from sklearn.model_selection import train_test_split

        if min(bad.sum(), (~bad).sum()) < 2:
            raise _BadInput(f"{arguments.csv}: too few bad or good rows to hold out a test share")
        train_rows, test_rows = train_test_split(
            np.arange(len(table)),
            test_size=options.test_share,
            random_state=options.random_state,
            stratify=bad,
        )
        train_rows, test_rows = np.sort(train_rows), np.sort(test_rows)
        test_table, test_bad = table.iloc[test_rows], bad[test_rows]
        test_groups = train.iloc[test_rows]
        table, bad = table.iloc[train_rows], bad[train_rows]
        print(
            f"no --test-csv: held out {len(test_rows)} rows ({options.test_share:.0%}, at "
            f"random, as many bad in proportion) as the test; fitting on {len(train_rows)}",
            file=out,
        )
    try:
        model = fit(table, bad, specs, options)
    except FitError as error:
        raise _BadInput(f"{arguments.csv}: cannot fit: {error}") from error

    _print_model(model, out)
    train_figures = metrics(model.score(table), bad)
    test_scores = model.score(test_table)
    test_figures = metrics(test_scores, test_bad)
    for label, figures in (("train", train_figures), ("test", test_figures)):
        print(
            f"{label}: AUC {figures.auc:.3f}, Gini {figures.gini:.3f}, KS {figures.ks:.3f} "
            f"({figures.count} rows, {figures.bad} bad)",
            file=out,
        )
    if arguments.out is not None:
        try:
            arguments.out.write_text(json.dumps(model.as_json(), indent=2) + "\n")
        except OSError as error:
            raise _BadInput(f"--out {arguments.out}: cannot write ({error.strerror})") from error
        print(f"wrote the model to {arguments.out}", file=out)
    ratios = []
    for name in audited:
        ratio, rates = selection_ratio(
            test_scores, test_groups[name].tolist(), approval=arguments.approval
        )
        said = ", ".join(f"{group} {rate:.3f}" for group, rate in rates.items())
        print(
            f"approval rates by {name} (the best-scored {arguments.approval:.0%} of the "
            f"test rows approved): {said or 'no group'}",
            file=out,
        )
        ratios.append((name, ratio))
    for name, ratio in ratios:
        print(f"audit: {name} ratio {ratio:.3f}", file=out)
    print(
        f"fit: train AUC {train_figures.auc:.3f}; test AUC {test_figures.auc:.3f}; "
        f"KS {test_figures.ks:.3f}",
        file=out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scoring.fitting fit --csv FILE --target COL --bad VALUE ...``.

    Prints the bins and points per column, the train and test figures, one
    ``audit: COL ratio R`` line per audited column and, last, ``fit: train AUC A; test
    AUC B; KS C``. Bad input: one line on stderr, exit code 2."""
    try:
        arguments = _parser().parse_args(argv)
        _fit_command(arguments, sys.stdout)
    except _BadInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

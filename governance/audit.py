"""The fairness audit: a scorecard and the perks' rules examined group by group.

For the scorecard and for each perk, per group of each dimension
(``governance.population.DIMENSIONS``): the count, the mean score, the share in each
band, the share that the scorecard rates good or better (for a perk: that would get a
waiver at all, and in full), and, where outcomes are known, the no-show and unpaid-claim
rates; across the groups, the disparate-impact ratio of each rate (the lowest group's
over the highest's) and the difference in error rates (equalized odds: the bad outcome
known is the truth, not being selected the prediction). A group with fewer than
``FAIRNESS_MIN_GROUP_SIZE`` members shows no figures and takes no part in a ratio.

And for the scorecard, per factor, its mean points in each wealth quintile: a factor
whose points in the lowest fifth are under the floor times those in the highest is a
proxy of wealth, shown by name.

The figures come from fairlearn: one ``MetricFrame`` per dimension holds every figure
of every subject (``selection_rate`` for the rates, counts and means as metric
functions), its ``ratio()`` gives the disparate-impact ratios (what
``demographic_parity_ratio`` returns for a selection rate) and its ``difference()`` of
the true and false positive rates the error-rate differences (what
``equalized_odds_difference`` returns; each rate over the groups where it is defined).
The accounts alike in everything a metric reads (group, band, outcome, each subject's
decisions) are given to fairlearn as one row weighted by their number, so the figures
are exact and the cost does not grow with the population (fairlearn handles each row in
Python: about two seconds per metric per million rows, and each of its helpers builds a
frame of its own, a fifth of a second each).

A perk is evaluated with its own rules (``merchants.perks.rules.evaluate``) on the facts
a merchant would read, the score being the audited scorecard's, for a deposit of the
perk's maximum: "waiver_any" is anything waived, "waiver_full" all of it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.metrics import roc_auc_score

from common.approvals import ratio_floor, subject_digest
from governance.analysis import AnalysisOutcome, Progress
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from governance.notices import notice_raise, notice_resolve
from governance.population import (
    DIMENSIONS,
    WEALTH,
    Dimension,
    Population,
    population_load,
)
from merchants.perks.models import PerkChange
from merchants.perks.rules import BAND_FACT, evaluate
from merchants.perks.versions import (
    PerkTerms,
    perk_change_digest,
    perk_terms_active,
    perk_terms_of_change,
)
from scoring import selectors
from scoring.facts import BAND_CODES
from scoring.models import Scorecard, ScorecardStatus
from scoring.scorecard import Scorecard as CompiledScorecard

logger = logging.getLogger(__name__)

NOTICE_KEY = "audit:live"
GOOD = BAND_CODES.index("good")
SCORECARD_KEY = "scorecard"
SCORECARD_RATES = ("good_or_better",)
PERK_RATES = ("waiver_any", "waiver_full")
RATE_LABELS = {
    "good_or_better": "share good or better",
    "waiver_any": "share with a waiver",
    "waiver_full": "share with a full waiver",
}
OUTCOMES = ("no_show", "unpaid_claim")
_BANDS = len(BAND_CODES)
# An account's outcome as one code: 0 unknown; known: 1 + had a no-show + 2 x had an
# unpaid claim.
_OUTCOME_CODES = 5


def figure_of(value: Any) -> float:
    """A figure from fairlearn as a float (a metric may come back as a 1-element array)."""
    values = np.asarray(value, dtype=np.float64).reshape(-1)
    if values.size != 1:
        raise ValueError(f"expected one figure, got {values.size}")
    return float(values[0])


def share_of(value: Any) -> float:
    return round(figure_of(value), 4)


def _number(value: Any) -> float | None:
    """A fairlearn figure as JSON: NaN (undefined) is null."""
    number = figure_of(value)
    return None if math.isnan(number) or math.isinf(number) else round(number, 4)


# --- Scores and perk decisions of the population ---------------------------------------


@dataclass(frozen=True)
class Scored:
    """The population under one scorecard: score, band (index in ``BAND_CODES``) and
    points per factor (columns in the scorecard's order), one row per account."""

    card: CompiledScorecard
    scores: np.ndarray
    bands: np.ndarray
    points: np.ndarray


def population_scored(population: Population, scorecard: Scorecard) -> Scored:
    """Score every account under ``scorecard``: the snapshots' scores where the
    population read them from this scorecard's snapshots (what is live), the scorecard
    evaluated on the features elsewhere."""
    card = selectors.scorecard_compiled(scorecard)
    count, width = len(population), len(card.factors)
    if population.scored_by == scorecard.pk and population.points_keys == card.factor_keys:
        scores = population.scores.copy()
        bands = population.bands.copy()
        points = population.points.copy()
        todo = np.flatnonzero(~population.scored)
    else:
        scores = np.zeros(count, dtype=np.int64)
        bands = np.zeros(count, dtype=np.int64)
        points = np.zeros((count, width), dtype=np.int64)
        todo = np.arange(count)
    if len(todo):
        band_index = {code: index for index, code in enumerate(BAND_CODES)}
        results = [card.evaluate(features) for features in population.features_rows(todo)]
        scores[todo] = [result.score for result in results]
        bands[todo] = [band_index[result.band] for result in results]
        if width:
            points[todo] = [result.points for result in results]
    return Scored(card=card, scores=scores, bands=bands, points=points)


_ABSENT = -(2.0**62)


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.unique(values, return_inverse=True)


def perk_waived(
    population: Population, scored: Scored, terms: PerkTerms, *, requested: int
) -> tuple[np.ndarray, np.ndarray]:
    """(eligible, waived amount) of every account for a deposit of ``requested`` under
    the perk's terms, by ``merchants.perks.rules.evaluate`` on the facts its rules read
    (the score and band being ``scored``'s). Evaluated once per distinct combination of
    those facts."""
    keys = terms.rules.fact_keys()
    columns = []
    for key in keys:
        if key == "score":
            columns.append(scored.scores.astype(np.float64))
        elif key == BAND_FACT:
            columns.append(scored.bands.astype(np.float64))
        else:
            columns.append(np.nan_to_num(population.fact(key), nan=_ABSENT))
    count = len(population)
    combined = np.zeros(count, dtype=np.int64)
    uniques: list[np.ndarray] = []
    radix = 1
    for column in columns:
        values, inverse = _codes(column)
        uniques.append(values)
        combined = combined * len(values) + inverse.reshape(-1)
        radix *= max(len(values), 1)
        if radix > 2**62:  # pragma: no cover (facts of absurd variety)
            raise ValueError("too many distinct facts to evaluate the perk")
    distinct, inverse = np.unique(combined, return_inverse=True)
    eligible = np.zeros(len(distinct), dtype=bool)
    waived = np.zeros(len(distinct), dtype=np.int64)
    sizes = [len(values) for values in uniques]
    for index, code in enumerate(distinct.tolist()):
        facts: dict[str, int | str | None] = {}
        for key, values, size in zip(
            reversed(keys), reversed(uniques), reversed(sizes), strict=True
        ):
            code, position = divmod(code, size)
            value = float(values[position])
            if key == BAND_FACT:
                facts[key] = BAND_CODES[int(value)]
            else:
                facts[key] = None if value == _ABSENT else int(value)
        outcome = evaluate(
            terms.rules,
            facts,
            requested=requested,
            max_amount=terms.max_amount,
            currency=terms.currency,
        )
        eligible[index], waived[index] = outcome.eligible, outcome.waived_amount
    inverse = inverse.reshape(-1)
    return eligible[inverse], waived[inverse]


def requested_for(terms: PerkTerms) -> int:
    """The deposit an audit asks to have waived: the perk's maximum (1 when nothing can
    be waived: a request must be positive)."""
    return max(terms.max_amount, 1)


# --- Groups and fairlearn --------------------------------------------------------------


def min_group_size() -> int:
    return int(settings.FAIRNESS_MIN_GROUP_SIZE)


@dataclass(frozen=True)
class GroupCodes:
    """Each account's group in one dimension (index in its ``groups``; -1 left out),
    the groups' sizes and which are shown."""

    dimension: Dimension
    codes: np.ndarray
    counts: np.ndarray
    shown: np.ndarray  # bool per group: not suppressed

    @property
    def members(self) -> np.ndarray:
        """Rows of the accounts in a shown group."""
        codes = self.codes
        return np.flatnonzero((codes >= 0) & self.shown[np.maximum(codes, 0)])


def group_codes(population: Population, dimension: Dimension) -> GroupCodes:
    codes = population.groups[dimension.key].astype(np.int64).reshape(-1)
    size = len(dimension.groups)
    counts = np.bincount(codes[codes >= 0], minlength=size)[:size]
    return GroupCodes(dimension, codes, counts, counts >= min_group_size())


def _weighted_count(y_true: Any, y_pred: Any, sample_weight: np.ndarray) -> float:
    return float(np.sum(sample_weight))


def _weighted_share(y_true: Any, y_pred: Any, flag: np.ndarray, sample_weight: np.ndarray) -> float:
    total = np.sum(sample_weight)
    return float(np.sum(sample_weight[flag.astype(bool)]) / total) if total else math.nan


def weighted_mean(y_true: Any, y_pred: Any, total: np.ndarray, sample_weight: np.ndarray) -> float:
    """The mean of a value over the rows, given each row's total of it."""
    weight = np.sum(sample_weight)
    return float(np.sum(total) / weight) if weight else math.nan


def selection(y_true: Any, y_pred: Any, chosen: np.ndarray, sample_weight: np.ndarray) -> float:
    """fairlearn's ``selection_rate`` of one subject's choice (the frame's own
    ``y_pred`` serves every subject at once, so each passes its own)."""
    return float(selection_rate(chosen, chosen, pos_label=1, sample_weight=sample_weight))


def _outcome_rate(
    y_true: Any, y_pred: Any, known: np.ndarray, had: np.ndarray, sample_weight: np.ndarray
) -> float:
    known = known.astype(bool)
    base = np.sum(sample_weight[known])
    if not base:
        return math.nan
    return float(np.sum(sample_weight[known & had.astype(bool)]) / base)


def _error_rate(
    known: np.ndarray,
    had: np.ndarray,
    refused: np.ndarray,
    sample_weight: np.ndarray,
    *,
    positive: bool,
) -> float:
    """The true positive rate (``positive``) or false positive rate of "not selected"
    as a prediction of the bad outcome, over the members whose outcome is known, as
    fairlearn's ``true_positive_rate``/``false_positive_rate`` define them with weights
    (written out: theirs go through scikit-learn's confusion matrix, some ten
    milliseconds a call); NaN where the group has no such member (no rate)."""
    known, had = known.astype(bool), had.astype(bool)
    rows = known & (had if positive else ~had)
    base = np.sum(sample_weight[rows])
    if not base:
        return math.nan
    return float(np.sum(sample_weight[rows & refused.astype(bool)]) / base)


def _true_positives(
    y_true: Any,
    y_pred: Any,
    known: np.ndarray,
    had: np.ndarray,
    refused: np.ndarray,
    sample_weight: np.ndarray,
) -> float:
    return _error_rate(known, had, refused, sample_weight, positive=True)


def _false_positives(
    y_true: Any,
    y_pred: Any,
    known: np.ndarray,
    had: np.ndarray,
    refused: np.ndarray,
    sample_weight: np.ndarray,
) -> float:
    return _error_rate(known, had, refused, sample_weight, positive=False)


def _twice(values: np.ndarray) -> np.ndarray:
    """Each row twice (with half its weight): fairlearn mishandles a group of one row
    (its metrics come back as arrays, and a ratio over them is wrong), never one of two.
    Halving a whole number is exact, so every figure stays exact."""
    return np.repeat(values, 2)


@dataclass(frozen=True)
class Profiles:
    """The accounts alike in everything a metric reads (small whole numbers per column:
    band, outcome, each subject's choices), numbered: ``of`` each account's profile,
    ``columns`` each profile's values."""

    of: np.ndarray
    columns: dict[str, np.ndarray]

    @classmethod
    def of_columns(cls, columns: dict[str, np.ndarray]) -> Profiles:
        names = list(columns)
        values = [columns[name].astype(np.int64) for name in names]
        count = len(values[0]) if values else 0
        combined = np.zeros(count, dtype=np.int64)
        room = 1
        for column in values:
            radix = int(column.max()) + 1 if count else 1
            room *= radix
            if room > 2**62:  # pragma: no cover (hundreds of perks)
                raise ValueError("too many subjects to combine in one audit")
            combined = combined * radix + column
        _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        return cls(
            of=inverse.reshape(-1),
            columns={name: column[first] for name, column in zip(names, values, strict=True)},
        )


@dataclass(frozen=True)
class Table:
    """One dimension's shown members as frequency-weighted rows (each twice, see
    ``_twice``): one per (group, profile), with how many accounts and their totals."""

    group: np.ndarray
    weight: np.ndarray
    columns: dict[str, np.ndarray]
    totals: dict[str, np.ndarray]


def weighted_table(groups: GroupCodes, profiles: Profiles, totals: dict[str, np.ndarray]) -> Table:
    rows = groups.members
    size = len(next(iter(profiles.columns.values()))) if profiles.columns else 1
    key = groups.codes[rows] * size + profiles.of[rows]
    length = len(groups.dimension.groups) * size
    weight = np.bincount(key, minlength=length)
    present = np.flatnonzero(weight)
    group, profile = np.divmod(present, size)
    return Table(
        group=_twice(group),
        weight=_twice(weight[present]) / 2,
        columns={name: _twice(values[profile]) for name, values in profiles.columns.items()},
        totals={
            name: _twice(np.bincount(key, weights=values[rows], minlength=length)[present]) / 2
            for name, values in totals.items()
        },
    )


def group_frame(table: Table, metrics: dict[str, tuple[Any, dict[str, Any]]]) -> MetricFrame:
    """A fairlearn ``MetricFrame`` of the table's groups: ``metrics`` maps a name to a
    function and its per-row arguments (each given the rows' weights too)."""
    count = len(table.group)
    return MetricFrame(
        metrics={name: function for name, (function, _) in metrics.items()},
        y_true=np.zeros(count, dtype=np.int64),
        y_pred=np.zeros(count, dtype=np.int64),
        sensitive_features=table.group,
        sample_params={
            name: {**arguments, "sample_weight": table.weight}
            for name, (_, arguments) in metrics.items()
        },
    )


def frame_ratios(frame: MetricFrame | None, names: Sequence[str], groups: int) -> dict[str, Any]:
    """Each rate's disparate-impact ratio across the groups (fairlearn's
    ``MetricFrame.ratio``: what ``demographic_parity_ratio`` returns for a selection
    rate); None with fewer than two groups or when no group is selected at all."""
    if frame is None or groups < 2:
        return dict.fromkeys(names)
    ratios = frame.ratio()
    return {name: _number(ratios[name]) for name in names}


def frame_difference(
    frame: MetricFrame, by_group: dict[int, dict[str, Any]], names: Sequence[str]
) -> float | None:
    """The equalized odds difference as fairlearn's ``equalized_odds_difference``
    computes it (the larger of the true and false positive rates' differences between
    groups, ``MetricFrame.difference``), each rate over the groups where it is defined;
    None when neither is defined in two groups."""
    differences = frame.difference()
    found = []
    for name in names:
        defined = sum(
            1 for figures in by_group.values() if not math.isnan(figure_of(figures[name]))
        )
        if defined >= 2:
            found.append(figure_of(differences[name]))
    return round(max(found), 4) if found else None


def outcome_codes(population: Population) -> np.ndarray:
    return np.where(
        population.outcome_known,
        1 + population.had_no_show.astype(np.int64) + 2 * population.had_unpaid_claim,
        0,
    ).astype(np.int64)


@dataclass(frozen=True)
class Subject:
    """One thing audited: its key, label, rate keys and each account's choice per rate
    (the first rate's is "selected")."""

    key: str
    label: str
    rate_keys: tuple[str, ...]
    chosen: tuple[np.ndarray, ...]
    perk_version: int | None = None
    perk_id: str | None = None
    draft: bool = False
    context: bool = False


def _column(subject: int, rate: int) -> str:
    return f"s{subject}r{rate}"


def dimension_reports(
    groups: GroupCodes, subjects: Sequence[Subject], profiles: Profiles, scores: np.ndarray
) -> list[dict[str, Any]]:
    """One dimension of every subject, as the report has it: one fairlearn frame of
    every figure of every subject."""
    dimension = groups.dimension
    table = weighted_table(groups, profiles, {"score": scores.astype(np.float64)})
    columns = table.columns
    known = columns["outcome"] > 0
    code = np.maximum(columns["outcome"] - 1, 0)
    had = {"no_show": (code & 1) > 0, "unpaid_claim": (code & 2) > 0}
    metrics: dict[str, tuple[Any, dict[str, Any]]] = {
        "count": (_weighted_count, {}),
        "mean_score": (weighted_mean, {"total": table.totals["score"]}),
    }
    for index, band in enumerate(BAND_CODES):
        metrics[f"band:{band}"] = (_weighted_share, {"flag": columns["band"] == index})
    for outcome in OUTCOMES:
        metrics[f"{outcome}_rate"] = (_outcome_rate, {"known": known, "had": had[outcome]})
    for number, subject in enumerate(subjects):
        for rate, _ in enumerate(subject.rate_keys):
            chosen = columns[_column(number, rate)]
            metrics[_column(number, rate)] = (selection, {"chosen": chosen})
        refused = columns[_column(number, 0)] == 0
        for outcome in OUTCOMES:
            for positive in (True, False):
                metrics[f"{_column(number, 0)}:{outcome}:{positive}"] = (
                    _true_positives if positive else _false_positives,
                    {"known": known, "had": had[outcome], "refused": refused},
                )
    frame = group_frame(table, metrics) if len(table.group) else None
    by_group: dict[int, dict[str, Any]] = {}
    if frame is not None:
        by_group = {int(code): row.to_dict() for code, row in frame.by_group.iterrows()}
    shown = len(by_group)
    floor = ratio_floor()
    reports = []
    for number, subject in enumerate(subjects):
        rows = []
        for index, group in enumerate(dimension.groups):
            figures = by_group.get(index)
            if not groups.shown[index] or figures is None:
                rows.append({"key": group.key, "label": group.label, "suppressed": True})
                continue
            row: dict[str, Any] = {
                "key": group.key,
                "label": group.label,
                "suppressed": False,
                "count": int(groups.counts[index]),
                "mean_score": round(figure_of(figures["mean_score"]), 1),
                "bands": {band: share_of(figures[f"band:{band}"]) for band in BAND_CODES},
            }
            for rate, key in enumerate(subject.rate_keys):
                row[key] = share_of(figures[_column(number, rate)])
            for outcome in OUTCOMES:
                row[f"{outcome}_rate"] = _number(figures[f"{outcome}_rate"])
            rows.append(row)
        names = [_column(number, rate) for rate, _ in enumerate(subject.rate_keys)]
        ratios = dict(
            zip(subject.rate_keys, frame_ratios(frame, names, shown).values(), strict=True)
        )
        differences = {
            outcome: (
                frame_difference(
                    frame,
                    by_group,
                    [f"{names[0]}:{outcome}:True", f"{names[0]}:{outcome}:False"],
                )
                if frame is not None
                else None
            )
            for outcome in OUTCOMES
        }
        reports.append(
            {
                "key": dimension.key,
                "label": dimension.label,
                "groups": rows,
                "ratios": ratios,
                "error_rate_difference": differences,
                "flagged": any(ratio is not None and ratio < floor for ratio in ratios.values()),
            }
        )
    return reports


def _subject_report(subject: Subject, dimensions: list[dict[str, Any]]) -> dict[str, Any]:
    ratios = [
        ratio
        for dimension in dimensions
        for ratio in dimension["ratios"].values()
        if ratio is not None
    ]
    lowest = min(ratios) if ratios else None
    return {
        "key": subject.key,
        "label": subject.label,
        "perk_version": subject.perk_version,
        "perk_id": subject.perk_id,
        "draft": subject.draft,
        "context": subject.context,
        "rate_keys": list(subject.rate_keys),
        "dimensions": dimensions,
        "min_ratio": lowest,
        "flagged": lowest is not None and lowest < ratio_floor(),
    }


def perk_subject_key(terms: PerkTerms, *, draft: bool = False) -> str:
    """``perk:<uuid>`` for a live version; a draft: ``perk:<uuid>:draft``, or
    ``perk:new`` for a perk that does not exist yet."""
    if terms.perk_id is None:
        return "perk:new"
    if draft:
        return f"perk:{terms.perk_id}:draft"
    return f"perk:{terms.perk_id}"


def factor_points_by_wealth(scored: Scored, wealth: GroupCodes) -> list[dict[str, Any]]:
    """Each factor's mean points per wealth quintile (points shifted so that the
    factor's lowest is 0), the lowest fifth's over the highest's, and whether that is
    under the floor (a proxy of wealth); one fairlearn frame for every factor."""
    floor = ratio_floor()
    lows, spans, totals = [], [], {}
    for index, factor in enumerate(scored.card.factors):
        candidates = list(factor.bin_points)
        if factor.missing_points is not None:
            candidates.append(factor.missing_points)
        lows.append(min(candidates))
        spans.append(max(candidates) - min(candidates))
        totals[factor.key] = (scored.points[:, index] - lows[-1]).astype(np.float64)
    profiles = Profiles(of=np.zeros(len(wealth.codes), dtype=np.int64), columns={})
    table = weighted_table(wealth, profiles, totals)
    keys = [group.key for group in wealth.dimension.groups]
    means: dict[str, dict[str, float | None]] = {
        factor.key: dict.fromkeys(keys) for factor in scored.card.factors
    }
    if len(table.group):
        frame = group_frame(
            table,
            {key: (weighted_mean, {"total": table.totals[key]}) for key in totals},
        )
        for code, row in frame.by_group.iterrows():
            for key in totals:
                means[key][keys[int(code)]] = round(figure_of(row[key]), 2)
    report = []
    for factor, span in zip(scored.card.factors, spans, strict=True):
        low, high = means[factor.key][keys[0]], means[factor.key][keys[-1]]
        ratio = round(low / high, 4) if low is not None and high else None
        report.append(
            {
                "factor": factor.key,
                "label": factor.label,
                "max_points": span,
                "mean_points": means[factor.key],
                "ratio": ratio,
                "proxy": ratio is not None and ratio < floor,
            }
        )
    return report


def outcome_auc(population: Population, scores: np.ndarray) -> float | None:
    """How well the audited scores rank the outcomes known (a no-show or an unpaid claim
    is bad): the area under the ROC curve of the score against a good outcome, from 0.5
    (no better than chance) to 1; None unless both outcomes occur. A draft should rank
    at least as well as the version it replaces."""
    known = population.outcome_known
    if not known.any():
        return None
    bad = (population.had_no_show | population.had_unpaid_claim)[known]
    if bad.all() or not bad.any():
        return None
    return round(float(roc_auc_score(~bad, scores[known])), 4)


def audit_compute(
    population: Population,
    *,
    scorecard: Scorecard,
    perks: Sequence[PerkTerms],
    draft: PerkTerms | None = None,
    context: Collection[str] = (),
    live: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The audit's report of ``scorecard`` and the live ``perks``
    on the population, with ``draft`` (a perk draft) first among the perks. Subjects
    whose key is in ``context`` are shown but left out of the report's ``min_ratio``
    (what an approval rests on)."""
    report = progress or (lambda percent, note="": None)
    scored = population_scored(population, scorecard)
    report(70, "scored")
    subjects = [
        Subject(
            key=SCORECARD_KEY,
            label=f"Scorecard v{scorecard.version}: {scorecard.name}",
            rate_keys=SCORECARD_RATES,
            chosen=(scored.bands >= GOOD,),
            draft=scorecard.status == ScorecardStatus.DRAFT,
            context=SCORECARD_KEY in context,
        )
    ]
    examined = [(draft, True)] if draft is not None else []
    examined += [(terms, False) for terms in perks]
    for terms, is_draft in examined:
        requested = requested_for(terms)
        _, waived = perk_waived(population, scored, terms, requested=requested)
        key = perk_subject_key(terms, draft=is_draft)
        subjects.append(
            Subject(
                key=key,
                label=terms.label,
                rate_keys=PERK_RATES,
                chosen=(waived > 0, waived >= requested),
                perk_version=None if is_draft else terms.version,
                perk_id=str(terms.perk_id) if terms.perk_id is not None else None,
                draft=is_draft,
                context=key in context,
            )
        )
    report(80, "decided")
    columns = {"band": scored.bands, "outcome": outcome_codes(population)}
    for number, subject in enumerate(subjects):
        for rate, chosen in enumerate(subject.chosen):
            columns[_column(number, rate)] = chosen.astype(np.int64)
    profiles = Profiles.of_columns(columns)
    groups = [group_codes(population, dimension) for dimension in DIMENSIONS]
    by_dimension = [dimension_reports(codes, subjects, profiles, scored.scores) for codes in groups]
    report(95, "measured")
    reports = [
        _subject_report(subject, [dimensions[number] for dimensions in by_dimension])
        for number, subject in enumerate(subjects)
    ]
    wealth = next(codes for codes in groups if codes.dimension.key == WEALTH)
    counted = [
        subject["min_ratio"]
        for subject in reports
        if not subject["context"] and subject["min_ratio"] is not None
    ]
    lowest = min(counted) if counted else None
    return {
        "at": population.at.isoformat(),
        "live": live,
        "population": len(population),
        "floor": ratio_floor(),
        "min_group_size": min_group_size(),
        "scorecard": {
            "version": scorecard.version,
            "name": scorecard.name,
            "status": scorecard.status,
        },
        "outcome_window_days": population.outcome_window_days,
        "subjects": reports,
        "factor_points_by_wealth": factor_points_by_wealth(scored, wealth),
        "outcome_auc": outcome_auc(population, scored.scores),
        "min_ratio": lowest,
        "flagged": lowest is not None and lowest < ratio_floor(),
    }


# --- The stored run --------------------------------------------------------------------


def _perk_inputs(perks: Sequence[PerkTerms], draft: PerkTerms | None) -> list[dict[str, Any]]:
    examined = [(draft, True)] if draft is not None else []
    return [
        {
            "perk_id": str(terms.perk_id) if terms.perk_id is not None else None,
            "version": None if is_draft else terms.version,
            "label": terms.label,
            "draft": is_draft,
        }
        for terms, is_draft in [*examined, *((terms, False) for terms in perks)]
    ]


def audit_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    """The runner of an audit. Its subject: a scorecard (a draft, or the active one)
    with every active perk scored by it; a perk draft (a pending change) under the
    active scorecard, beside the live version of the same perk; with neither, what is
    live (the active scorecard and every active perk)."""
    at = timezone.now()
    active = selectors.scorecard_active()
    context: set[str] = set()
    draft: PerkTerms | None = None
    live = run.scorecard_id is None and run.perk_change_id is None
    if run.scorecard_id is not None:
        scorecard = Scorecard.objects.get(pk=run.scorecard_id)
        perks = perk_terms_active()
        digest = selectors.scorecard_digest(scorecard)
    elif run.perk_change_id is not None:
        change = PerkChange.objects.select_related("merchant").get(pk=run.perk_change_id)
        scorecard = active
        draft = perk_terms_of_change(change)
        perks = [
            terms
            for terms in perk_terms_active()
            if change.perk_id is not None and terms.perk_id == change.perk_id
        ]
        context = {SCORECARD_KEY, *(perk_subject_key(terms) for terms in perks)}
        digest = perk_change_digest(change)
    else:
        scorecard = active
        perks = perk_terms_active()
        digest = subject_digest(
            {
                "scorecard": selectors.scorecard_digest(active),
                "perks": [
                    [str(terms.perk_id), terms.version, terms.max_amount, terms.rules.as_data()]
                    for terms in perks
                ],
            }
        )
    progress(1, "reading the population")
    population = population_load(
        at=at,
        progress=progress,
        scores_of=active if scorecard.pk == active.pk else None,
    )
    result = audit_compute(
        population,
        scorecard=scorecard,
        perks=perks,
        draft=draft,
        context=context,
        live=live,
        progress=progress,
    )
    inputs: dict[str, Any] = {
        "scorecard": {
            "id": scorecard.pk,
            "version": scorecard.version,
            "status": scorecard.status,
        },
        "perks": _perk_inputs(perks, draft),
        "population_at": at.isoformat(),
        "population": len(population),
    }
    if live:
        inputs["live"] = True
    return AnalysisOutcome(
        result=result,
        population_at=at,
        min_ratio=result["min_ratio"],
        flagged=result["flagged"],
        subject_digest=digest,
        inputs=inputs,
    )


def worst_ratio(result: dict[str, Any]) -> tuple[str, str, str, float] | None:
    """(subject label, dimension label, rate key, ratio) of the lowest ratio of the
    subjects that count; None without any."""
    worst: tuple[str, str, str, float] | None = None
    for subject in result.get("subjects", []):
        if subject.get("context"):
            continue
        for dimension in subject["dimensions"]:
            for key, ratio in dimension["ratios"].items():
                if ratio is not None and (worst is None or ratio < worst[3]):
                    worst = (subject["label"], dimension["label"], key, ratio)
    return worst


def audit_notices(run: AnalysisRun) -> None:
    """After the nightly audit of what is live: raise ``audit:live`` when a ratio is under
    the floor (naming the worst), resolve it otherwise. An audit of a draft raises
    nothing: its report says it."""
    if run.kind != AnalysisKind.AUDIT or run.status != AnalysisStatus.DONE:
        return
    if not (run.inputs or {}).get("live"):
        return
    if not run.flagged:
        notice_resolve(key=NOTICE_KEY)
        return
    worst = worst_ratio(run.result or {})
    if worst is None:  # pragma: no cover (flagged implies a ratio)
        message = f"Fairness audit #{run.pk}: a ratio is under {ratio_floor()}."
    else:
        subject, dimension, key, ratio = worst
        message = (
            f"Fairness audit #{run.pk}: {subject}, {dimension}: the {RATE_LABELS[key]} of the "
            f"lowest group is {ratio:.2f} of the highest's, under {ratio_floor():.2f}."
        )
    notice_raise(key=NOTICE_KEY, message=message, run=run)

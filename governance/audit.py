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

The figures come from fairlearn (``MetricFrame``, ``demographic_parity_ratio``,
``equalized_odds_difference``), given each group's members as frequency-weighted rows:
the accounts alike in everything a metric reads (group, selected or not, band, outcome)
become one row weighted by their number, so the figures are exact and the cost does not
grow with the population (fairlearn handles each row in Python: about two seconds per
metric per million rows).

A perk is evaluated with its own rules (``merchants.perks.rules.evaluate``) on the facts
a merchant would read, the score being the audited scorecard's, for a deposit of the
perk's maximum: "waiver_any" is anything waived, "waiver_full" all of it.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_ratio,
    equalized_odds_difference,
    selection_rate,
)

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


def _scalar(value: Any) -> float:
    """A figure from fairlearn as a float (a metric may come back as a 1-element array)."""
    values = np.asarray(value, dtype=np.float64).reshape(-1)
    if values.size != 1:
        raise ValueError(f"expected one figure, got {values.size}")
    return float(values[0])


def _share(value: Any) -> float:
    return round(_scalar(value), 4)


def _number(value: Any) -> float | None:
    """A fairlearn figure as JSON: NaN (undefined) is null."""
    number = _scalar(value)
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
    position = {group.key: index for index, group in enumerate(dimension.groups)}
    keys = population.groups[dimension.key]
    codes = np.array([position.get(key, -1) if key is not None else -1 for key in keys.tolist()])
    codes = codes.astype(np.int64).reshape(-1)
    size = len(dimension.groups)
    counts = np.bincount(codes[codes >= 0], minlength=size)[:size]
    return GroupCodes(dimension, codes, counts, counts >= min_group_size())


def _weighted_count(y_true: Any, y_pred: Any, sample_weight: np.ndarray) -> float:
    return float(np.sum(sample_weight))


def _weighted_share(y_true: Any, y_pred: Any, flag: np.ndarray, sample_weight: np.ndarray) -> float:
    total = np.sum(sample_weight)
    return float(np.sum(sample_weight[flag.astype(bool)]) / total) if total else math.nan


def _weighted_mean(y_true: Any, y_pred: Any, total: np.ndarray, sample_weight: np.ndarray) -> float:
    """The mean of a value over the rows, given each row's total of it."""
    weight = np.sum(sample_weight)
    return float(np.sum(total) / weight) if weight else math.nan


def _outcome_rate(
    y_true: Any, y_pred: Any, known: np.ndarray, had: np.ndarray, sample_weight: np.ndarray
) -> float:
    known = known.astype(bool)
    base = np.sum(sample_weight[known])
    if not base:
        return math.nan
    return float(np.sum(sample_weight[known & had.astype(bool)]) / base)


@dataclass(frozen=True)
class Compressed:
    """The shown members of one dimension as frequency-weighted rows: one per distinct
    (group, selected, in full, band, outcome), with how many accounts and their total
    score."""

    group: np.ndarray
    selected: np.ndarray
    full: np.ndarray
    band: np.ndarray
    outcome: np.ndarray
    weight: np.ndarray
    score_total: np.ndarray

    def known(self) -> np.ndarray:
        return self.outcome > 0

    def had(self, outcome: str) -> np.ndarray:
        code = np.maximum(self.outcome - 1, 0)
        return (code & (1 if outcome == "no_show" else 2)) > 0


def outcome_codes(population: Population) -> np.ndarray:
    return np.where(
        population.outcome_known,
        1 + population.had_no_show.astype(np.int64) + 2 * population.had_unpaid_claim,
        0,
    ).astype(np.int64)


def compress(
    groups: GroupCodes,
    *,
    selected: np.ndarray,
    full: np.ndarray,
    bands: np.ndarray,
    outcomes: np.ndarray,
    scores: np.ndarray,
) -> Compressed:
    rows = groups.members
    size = len(groups.dimension.groups)
    radices = (size, 2, 2, _BANDS, _OUTCOME_CODES)
    combined = groups.codes[rows]
    for radix, column in zip(
        radices[1:],
        (selected[rows].astype(np.int64), full[rows].astype(np.int64), bands[rows], outcomes[rows]),
        strict=True,
    ):
        combined = combined * radix + column
    total = int(np.prod(radices))
    weight = np.bincount(combined, minlength=total)
    score_total = np.bincount(combined, weights=scores[rows].astype(np.float64), minlength=total)
    present = np.flatnonzero(weight)
    digits = []
    rest = present.copy()
    for radix in reversed(radices):
        rest, digit = np.divmod(rest, radix)
        digits.append(digit)
    outcome, band, in_full, chosen, group = digits
    return Compressed(
        group=_twice(group),
        selected=_twice(chosen),
        full=_twice(in_full),
        band=_twice(band),
        outcome=_twice(outcome),
        weight=_twice(weight[present]) / 2,
        score_total=_twice(score_total[present]) / 2,
    )


def _twice(values: np.ndarray) -> np.ndarray:
    """Each row twice (with half its weight): fairlearn mishandles a group of one row
    (its metrics come back as arrays, and a ratio over them is wrong), never one of two.
    Halving a whole number is exact, so every figure stays exact."""
    return np.repeat(values, 2)


def disparate_ratio(table: Compressed, y_pred: np.ndarray) -> float | None:
    """The disparate-impact ratio of ``y_pred`` (lowest group's rate over the highest's)
    over the shown groups; None with fewer than two."""
    if len(np.unique(table.group)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ratio = demographic_parity_ratio(
            table.outcome > 0,
            y_pred,
            sensitive_features=table.group,
            sample_weight=table.weight,
        )
    return _number(ratio)


def _error_difference(table: Compressed, outcome: str) -> float | None:
    """Equalized odds difference (the larger of the true and false positive rates'
    differences) between the shown groups, with the bad outcome known as the truth and
    not being selected as the prediction; over the groups that have both a bad and a
    good outcome known (a rate of nothing is no rate); None with fewer than two."""
    known = table.known()
    had = table.had(outcome)
    eligible_groups = [
        group
        for group in np.unique(table.group[known]).tolist()
        if (known & had & (table.group == group)).any()
        and (known & ~had & (table.group == group)).any()
    ]
    if len(eligible_groups) < 2:
        return None
    rows = known & np.isin(table.group, eligible_groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        difference = equalized_odds_difference(
            had[rows].astype(np.int64),
            1 - table.selected[rows],
            sensitive_features=table.group[rows],
            sample_weight=table.weight[rows],
        )
    return _number(difference)


def _metric_frame(table: Compressed, rate_keys: Sequence[str]) -> MetricFrame:
    weight = table.weight
    metrics: dict[str, Any] = {
        "count": _weighted_count,
        rate_keys[0]: selection_rate,
        "mean_score": _weighted_mean,
    }
    params: dict[str, dict[str, Any]] = {
        "count": {"sample_weight": weight},
        rate_keys[0]: {"sample_weight": weight},
        "mean_score": {"total": table.score_total, "sample_weight": weight},
    }
    if len(rate_keys) > 1:
        metrics[rate_keys[1]] = _weighted_share
        params[rate_keys[1]] = {"flag": table.full, "sample_weight": weight}
    for index, code in enumerate(BAND_CODES):
        metrics[f"band:{code}"] = _weighted_share
        params[f"band:{code}"] = {"flag": table.band == index, "sample_weight": weight}
    for outcome in OUTCOMES:
        metrics[f"{outcome}_rate"] = _outcome_rate
        params[f"{outcome}_rate"] = {
            "known": table.known(),
            "had": table.had(outcome),
            "sample_weight": weight,
        }
    return MetricFrame(
        metrics=metrics,
        y_true=table.known().astype(np.int64),
        y_pred=table.selected,
        sensitive_features=table.group,
        sample_params=params,
    )


def dimension_report(
    groups: GroupCodes,
    *,
    rate_keys: Sequence[str],
    selected: np.ndarray,
    full: np.ndarray,
    bands: np.ndarray,
    outcomes: np.ndarray,
    scores: np.ndarray,
) -> dict[str, Any]:
    """One dimension of one subject, in the contract's shape."""
    dimension = groups.dimension
    table = compress(
        groups, selected=selected, full=full, bands=bands, outcomes=outcomes, scores=scores
    )
    by_group: dict[int, dict[str, Any]] = {}
    if len(table.weight):
        frame = _metric_frame(table, rate_keys).by_group
        by_group = {int(code): row.to_dict() for code, row in frame.iterrows()}
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
            "mean_score": round(_scalar(figures["mean_score"]), 1),
            "bands": {code: _share(figures[f"band:{code}"]) for code in BAND_CODES},
        }
        for key in rate_keys:
            row[key] = _share(figures[key])
        for outcome in OUTCOMES:
            row[f"{outcome}_rate"] = _number(figures[f"{outcome}_rate"])
        rows.append(row)
    predictions = {rate_keys[0]: table.selected}
    if len(rate_keys) > 1:
        predictions[rate_keys[1]] = table.full
    ratios = {key: disparate_ratio(table, predictions[key]) for key in rate_keys}
    floor = ratio_floor()
    return {
        "key": dimension.key,
        "label": dimension.label,
        "groups": rows,
        "ratios": ratios,
        "error_rate_difference": {
            outcome: _error_difference(table, outcome) for outcome in OUTCOMES
        },
        "flagged": any(ratio is not None and ratio < floor for ratio in ratios.values()),
    }


def _subject(
    *,
    key: str,
    label: str,
    perk_version: int | None,
    perk_id: str | None,
    draft: bool,
    context: bool,
    rate_keys: Sequence[str],
    dimensions: list[dict[str, Any]],
) -> dict[str, Any]:
    ratios = [
        ratio
        for dimension in dimensions
        for ratio in dimension["ratios"].values()
        if ratio is not None
    ]
    lowest = min(ratios) if ratios else None
    return {
        "key": key,
        "label": label,
        "perk_version": perk_version,
        "perk_id": perk_id,
        "draft": draft,
        "context": context,
        "rate_keys": list(rate_keys),
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


def factor_points_by_wealth(
    population: Population, scored: Scored, wealth: GroupCodes
) -> list[dict[str, Any]]:
    """Each factor's mean points per wealth quintile (points shifted so that the
    factor's lowest is 0), the lowest fifth's over the highest's, and whether that is
    under the floor (a proxy of wealth)."""
    rows = wealth.members
    size = len(wealth.dimension.groups)
    codes = wealth.codes[rows]
    floor = ratio_floor()
    report = []
    for index, factor in enumerate(scored.card.factors):
        candidates = list(factor.bin_points)
        if factor.missing_points is not None:
            candidates.append(factor.missing_points)
        lowest = min(candidates)
        span = max(candidates) - lowest
        shifted = scored.points[rows, index] - lowest
        means: dict[str, float | None] = {group.key: None for group in wealth.dimension.groups}
        if len(rows):
            combined = codes * (span + 1) + shifted
            weight = np.bincount(combined, minlength=size * (span + 1))
            present = np.flatnonzero(weight)
            group, value = np.divmod(present, span + 1)
            frame = MetricFrame(
                metrics={"mean_points": _weighted_mean},
                y_true=np.zeros(2 * len(present)),
                y_pred=np.zeros(2 * len(present)),
                sensitive_features=_twice(group),
                sample_params={
                    "mean_points": {
                        "total": _twice(value * weight[present]) / 2,
                        "sample_weight": _twice(weight[present]) / 2,
                    }
                },
            ).by_group
            for code, mean in frame["mean_points"].items():
                means[wealth.dimension.groups[int(code)].key] = round(_scalar(mean), 2)
        keys = [group.key for group in wealth.dimension.groups]
        low, high = means[keys[0]], means[keys[-1]]
        ratio = round(low / high, 4) if low is not None and high else None
        report.append(
            {
                "factor": factor.key,
                "label": factor.label,
                "max_points": span,
                "mean_points": means,
                "ratio": ratio,
                "proxy": ratio is not None and ratio < floor,
            }
        )
    return report


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
    """The audit's report (the contract's shape) of ``scorecard`` and the live ``perks``
    on the population, with ``draft`` (a perk draft) first among the perks. Subjects
    whose key is in ``context`` are shown but left out of the report's ``min_ratio``
    (what an approval rests on)."""
    report = progress or (lambda percent, note="": None)
    scored = population_scored(population, scorecard)
    report(70, "scored")
    outcomes = outcome_codes(population)
    groups = [group_codes(population, dimension) for dimension in DIMENSIONS]
    good = scored.bands >= GOOD
    no_full = np.zeros(len(population), dtype=bool)
    subjects = [
        _subject(
            key=SCORECARD_KEY,
            label=f"Scorecard v{scorecard.version}: {scorecard.name}",
            perk_version=None,
            perk_id=None,
            draft=scorecard.status == ScorecardStatus.DRAFT,
            context=SCORECARD_KEY in context,
            rate_keys=SCORECARD_RATES,
            dimensions=[
                dimension_report(
                    codes,
                    rate_keys=SCORECARD_RATES,
                    selected=good,
                    full=no_full,
                    bands=scored.bands,
                    outcomes=outcomes,
                    scores=scored.scores,
                )
                for codes in groups
            ],
        )
    ]
    examined = [(draft, True)] if draft is not None else []
    examined += [(terms, False) for terms in perks]
    for number, (terms, is_draft) in enumerate(examined, start=1):
        requested = requested_for(terms)
        _, waived = perk_waived(population, scored, terms, requested=requested)
        key = perk_subject_key(terms, draft=is_draft)
        subjects.append(
            _subject(
                key=key,
                label=terms.label,
                perk_version=None if is_draft else terms.version,
                perk_id=str(terms.perk_id) if terms.perk_id is not None else None,
                draft=is_draft,
                context=key in context,
                rate_keys=PERK_RATES,
                dimensions=[
                    dimension_report(
                        codes,
                        rate_keys=PERK_RATES,
                        selected=waived > 0,
                        full=waived >= requested,
                        bands=scored.bands,
                        outcomes=outcomes,
                        scores=scored.scores,
                    )
                    for codes in groups
                ],
            )
        )
        report(70 + 25 * number // len(examined), f"perk {number} of {len(examined)}")
    wealth = next(codes for codes in groups if codes.dimension.key == WEALTH)
    counted = [
        subject["min_ratio"]
        for subject in subjects
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
        "subjects": subjects,
        "factor_points_by_wealth": factor_points_by_wealth(population, scored, wealth),
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

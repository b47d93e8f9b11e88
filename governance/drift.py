"""Drift of the live scorecard: how far today's population has moved from the one the
active version went live on.

The nightly check (``governance.drift_live``) compares two distributions with the
population stability index (PSI):

- the score, in the backtest's 50-point buckets (``scoring.backtest``);
- each factor of the active scorecard, by the bin its fact falls in (the bins of the
  scorecard's own definition; for an optional fact, a "none" bin for accounts without
  it).

The baseline is the distribution when the active version went live: the snapshots its
activation batch run wrote (trigger ``scorecard_activation``, that scorecard; an account
recomputed under it before the batch reached it counts with its first such snapshot).
A version that went live without a batch (the migrated default) has none: its earliest
snapshot of each account stands in, and the result says so. The baseline is computed by
the first drift run of a version and kept in its result; later runs of that version read
it from the latest finished one (no table of its own).

Today's distribution: the latest snapshot of each open account under the active version
(snapshots store the ``features`` they were computed from and the ``score``). Both are
read set-based, one statement per id range of accounts, as the batch reads them.

PSI = sum of (current - baseline) * ln(current / baseline) over the bins, with shares rather
than counts. An empty bin would make it infinite: a share under ``PSI_EPSILON`` counts as
``PSI_EPSILON`` (0.0001, one account in ten thousand), the usual remedy. Shares are
rounded to 6 places before the index is computed, so a later run computes it from the
stored baseline exactly as the first did. Over ``DRIFT_PSI_ALERT`` (0.25, the usual "a
significant shift") the run is flagged and the nightly check raises ``drift:live``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from governance import notices
from governance.analysis import AnalysisOutcome, Progress
from governance.errors import DriftBaselineUnavailable
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from scoring import selectors
from scoring.backtest import BUCKET_STARTS, bucket_index, bucket_label
from scoring.facts import FACTS, Features
from scoring.models import BatchRun, BatchRunStatus, Scorecard, ScoreSnapshot, SnapshotTrigger
from scoring.scorecard import Factor
from scoring.scorecard import Scorecard as CompiledScorecard

NOTICE_KEY = "drift:live"
PSI_EPSILON = 1e-4
SHARE_PLACES = 6
MISSING_LABEL = "none"

BASELINE_ACTIVATION = "activation"
BASELINE_EARLIEST = "earliest"


# --- The index -------------------------------------------------------------------------


def psi(baseline: Sequence[float], current: Sequence[float]) -> float:
    """The population stability index of ``current`` against ``baseline`` (shares of the
    same bins, each summing to 1, or all 0 for an empty population); a share under
    ``PSI_EPSILON`` counts as ``PSI_EPSILON``. 0 for equal distributions; rounded to 4
    places."""
    if len(baseline) != len(current):
        raise ValueError("The distributions must have the same bins.")
    total = 0.0
    for before, after in zip(baseline, current, strict=True):
        before, after = max(before, PSI_EPSILON), max(after, PSI_EPSILON)
        total += (after - before) * math.log(after / before)
    return round(total, 4)


def shares(counts: Sequence[int]) -> list[float]:
    """Counts as shares of their total, rounded to ``SHARE_PLACES`` (all 0 if empty)."""
    total = sum(counts)
    return [round(count / total, SHARE_PLACES) if total else 0.0 for count in counts]


# --- Bins ------------------------------------------------------------------------------


def factor_bin_labels(factor: Factor) -> list[str]:
    """The labels of a factor's bins, as the scorecard defines them ("0-49", "98-100",
    "6+"), and "none" last for an optional fact."""
    maximum = FACTS[factor.fact].maximum
    labels = []
    starts = factor.bin_starts
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else maximum
        if end is None:
            labels.append(f"{start}+")
        elif end == start:
            labels.append(f"{start}")
        else:
            labels.append(f"{start}-{end}")
    if factor.missing_points is not None:
        labels.append(MISSING_LABEL)
    return labels


@dataclass
class _Tally:
    """Counts of one population: per score bucket, and per factor per bin."""

    card: CompiledScorecard
    accounts: int = 0
    first_at: datetime | None = None

    def __post_init__(self) -> None:
        self.score = [0] * len(BUCKET_STARTS)
        self.factors = [[0] * len(factor_bin_labels(factor)) for factor in self.card.factors]
        self._reads = [
            (factor.fact, factor.bin_starts, factor.missing_points is not None)
            for factor in self.card.factors
        ]

    def add(self, score: int, stored: dict[str, Any], computed_at: datetime) -> None:
        self.accounts += 1
        if self.first_at is None or computed_at < self.first_at:
            self.first_at = computed_at
        self.score[bucket_index(score)] += 1
        features = Features.from_dict(stored)
        for counts, (fact, starts, optional) in zip(self.factors, self._reads, strict=True):
            counts[_bin_index(getattr(features, fact), starts, optional)] += 1


def _bin_index(value: int | None, starts: Sequence[int], optional: bool) -> int:
    """The bin a value falls in: the last whose start is at most the value (the first for
    a value below every start, as the scorecard scores it); "none" (last) when absent."""
    if value is None:
        return len(starts) if optional else 0
    return max(bisect.bisect_right(starts, value) - 1, 0)


# --- Reading the populations -----------------------------------------------------------


def _snapshots_by_account(
    snapshots: QuerySet[ScoreSnapshot], *, latest: bool
) -> QuerySet[ScoreSnapshot, tuple[int, dict[str, Any], datetime]]:
    """One snapshot per account of ``snapshots``: its latest or its earliest."""
    order = (F("computed_at").desc(), F("id").desc()) if latest else (F("computed_at"), F("id"))
    return (
        snapshots.annotate(rank=Window(RowNumber(), partition_by=F("account_id"), order_by=order))
        .filter(rank=1)
        .values_list("score", "features", "computed_at")
    )


def _tally(
    snapshots: QuerySet[ScoreSnapshot],
    *,
    latest: bool,
    card: CompiledScorecard,
    chunks: Sequence[tuple[int, int]],
    step: Callable[[], None],
) -> _Tally:
    """The distribution of one snapshot per account, read one id range at a time."""
    tally = _Tally(card)
    for first_id, last_id in chunks:
        in_range = snapshots.filter(account_id__gte=first_id, account_id__lte=last_id)
        for score, stored, computed_at in _snapshots_by_account(in_range, latest=latest):
            tally.add(score, stored, computed_at)
        step()
    return tally


@dataclass(frozen=True)
class _Baseline:
    at: str  # ISO
    accounts: int
    source: str  # BASELINE_ACTIVATION or BASELINE_EARLIEST
    note: str
    score: list[float]
    factors: list[list[float]]
    run_id: int | None = None  # the drift run it was computed by, when reused


def _baseline_stored(scorecard: Scorecard, card: CompiledScorecard) -> _Baseline | None:
    """The baseline kept by the latest finished drift run of this version, if any."""
    run = (
        AnalysisRun.objects.filter(
            kind=AnalysisKind.DRIFT,
            status=AnalysisStatus.DONE,
            result__scorecard_version=scorecard.version,
        )
        .order_by("-finished_at", "-id")
        .only("id", "result")
        .first()
    )
    if run is None or not isinstance(run.result, dict):
        return None
    result = run.result
    factors = result.get("factors") or []
    if [factor.get("key") for factor in factors] != list(card.factor_keys):
        return None  # not this definition's bins: computed again
    return _Baseline(
        at=result["baseline_at"],
        accounts=result["baseline_accounts"],
        source=result.get("baseline_source", BASELINE_ACTIVATION),
        note=result.get("baseline_note", ""),
        score=[row["baseline"] for row in result["score"]["bins"]],
        factors=[[row["baseline"] for row in factor["bins"]] for factor in factors],
        run_id=result.get("baseline_run") or run.pk,
    )


def _baseline_computed(
    scorecard: Scorecard,
    card: CompiledScorecard,
    chunks: Sequence[tuple[int, int]],
    step: Callable[[], None],
) -> _Baseline:
    """The distribution when ``scorecard`` went live, from its snapshots."""
    activation = (
        BatchRun.objects.filter(scorecard=scorecard, trigger=SnapshotTrigger.SCORECARD_ACTIVATION)
        .order_by("created_at", "id")
        .first()
    )
    if activation is not None and activation.status == BatchRunStatus.RUNNING:
        raise DriftBaselineUnavailable(
            f"Version {scorecard.version} went live with batch run #{activation.pk}, which has "
            "not finished: drift is measured against the scores it writes once it has."
        )
    of_version = ScoreSnapshot.objects.filter(scorecard=scorecard)
    if activation is not None:
        tally = _tally(
            of_version.filter(trigger=SnapshotTrigger.SCORECARD_ACTIVATION),
            latest=False,
            card=card,
            chunks=chunks,
            step=step,
        )
        if tally.accounts:
            return _baseline_of(
                tally,
                at=activation.at,
                source=BASELINE_ACTIVATION,
                note=f"The scores written when version {scorecard.version} went live "
                f"(batch run #{activation.pk}).",
            )
    tally = _tally(of_version, latest=False, card=card, chunks=chunks, step=step)
    if not tally.accounts or tally.first_at is None:
        raise DriftBaselineUnavailable(
            f"No account has a score under version {scorecard.version} yet: drift is "
            "measured once it has scored some."
        )
    return _baseline_of(
        tally,
        at=tally.first_at,
        source=BASELINE_EARLIEST,
        note=f"Version {scorecard.version} went live without an activation batch run: "
        "each account's earliest score under it stands in for the distribution when it "
        "went live.",
    )


def _baseline_of(tally: _Tally, *, at: datetime, source: str, note: str) -> _Baseline:
    return _Baseline(
        at=at.isoformat(),
        accounts=tally.accounts,
        source=source,
        note=note,
        score=shares(tally.score),
        factors=[shares(counts) for counts in tally.factors],
    )


# --- The run ---------------------------------------------------------------------------


def _bins(
    labels: Sequence[str], baseline: Sequence[float], current: Sequence[float]
) -> list[dict[str, Any]]:
    return [
        {"label": label, "baseline": before, "current": after}
        for label, before, after in zip(labels, baseline, current, strict=True)
    ]


def drift_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    """PSI of the live population's score and factor bins against the active version's
    baseline (see the module's docstring for the result's sources)."""
    now = timezone.now()
    scorecard = selectors.scorecard_active()
    card = selectors.scorecard_compiled(scorecard)
    chunks = selectors.account_id_chunks(size=settings.SCORING_BATCH_CHUNK_SIZE)
    baseline = _baseline_stored(scorecard, card)
    # Two passes when the baseline is computed (three if its activation left none).
    steps = len(chunks) * (1 if baseline is not None else 2) or 1
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        progress(min(99, 100 * done // steps), f"{done} of {steps} id ranges of accounts read")

    if baseline is None:
        baseline = _baseline_computed(scorecard, card, chunks, step)
    current = _tally(
        ScoreSnapshot.objects.filter(scorecard=scorecard, account__is_active=True),
        latest=True,
        card=card,
        chunks=chunks,
        step=step,
    )
    score_current = shares(current.score)
    score_psi = psi(baseline.score, score_current)
    factors: list[dict[str, Any]] = []
    psis = [score_psi]
    for factor, before, counts in zip(card.factors, baseline.factors, current.factors, strict=True):
        after = shares(counts)
        psis.append(psi(before, after))
        factors.append(
            {
                "key": factor.key,
                "label": factor.label,
                "psi": psis[-1],
                "bins": _bins(factor_bin_labels(factor), before, after),
            }
        )
    max_psi = max(psis)
    limit = settings.DRIFT_PSI_ALERT
    result = {
        "at": now.isoformat(),
        "scorecard_version": scorecard.version,
        "baseline_at": baseline.at,
        "baseline_accounts": baseline.accounts,
        "baseline_source": baseline.source,
        "baseline_note": baseline.note,
        "baseline_run": baseline.run_id,
        "accounts": current.accounts,
        "limit": limit,
        "score": {
            "psi": score_psi,
            "bins": _bins(
                [bucket_label(start) for start in BUCKET_STARTS], baseline.score, score_current
            ),
        },
        "factors": factors,
        "max_psi": max_psi,
        "flagged": max_psi > limit,
    }
    progress(100, f"{current.accounts} accounts compared with {baseline.accounts}")
    return AnalysisOutcome(
        result=result,
        population_at=now,
        flagged=max_psi > limit,
        subject_digest=selectors.scorecard_digest(scorecard),
        inputs={"scorecard_version": scorecard.version, "baseline_at": baseline.at},
    )


def drift_notices(run: AnalysisRun) -> None:
    """Raise or resolve ``drift:live`` after the nightly drift check: raised (naming each
    distribution over the limit, with its PSI) when the largest PSI is over
    ``DRIFT_PSI_ALERT``, resolved otherwise. Other runs change nothing."""
    if (
        run.kind != AnalysisKind.DRIFT
        or run.status != AnalysisStatus.DONE
        or not run.inputs.get("live")
        or not isinstance(run.result, dict)
    ):
        return
    result = run.result
    if not result.get("flagged"):
        notices.notice_resolve(key=NOTICE_KEY)
        return
    limit = result["limit"]
    over = [("the score", result["score"]["psi"])]
    over += [(f'"{factor["label"]}"', factor["psi"]) for factor in result["factors"]]
    over = sorted(
        ((name, value) for name, value in over if value > limit), key=lambda item: -item[1]
    )
    named = "; ".join(f"{name} {value:.2f}" for name, value in over)
    notices.notice_raise(
        key=NOTICE_KEY,
        message=(
            f"Drift: the population has moved since scorecard v{result['scorecard_version']} "
            f"went live. Stability index over {limit:g}: {named}."
        ),
        run=run,
    )

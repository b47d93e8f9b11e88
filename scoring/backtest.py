"""A backtest: today's population scored under the active scorecard and under a candidate.

Pure read: it computes features with the same set-based query as the batch and evaluates
both scorecards in memory, writing nothing (no snapshot, no log row). Staff read the
result before they activate a draft: how the distribution moves, who changes band, and
the mean score under each version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from scoring import selectors
from scoring.facts import BAND_CODES, BAND_LABELS
from scoring.models import Scorecard
from scoring.scorecard import SCORE_MAX, SCORE_MIN

BUCKET_WIDTH = 50
# 350-399, 400-449, ..., 900-950: the last bucket also holds the top score.
BUCKET_STARTS: tuple[int, ...] = tuple(range(SCORE_MIN, SCORE_MAX - BUCKET_WIDTH + 1, BUCKET_WIDTH))


def bucket_label(start: int) -> str:
    end = SCORE_MAX if start == BUCKET_STARTS[-1] else start + BUCKET_WIDTH - 1
    return f"{start}-{end}"


def bucket_index(score: int) -> int:
    return min((score - SCORE_MIN) // BUCKET_WIDTH, len(BUCKET_STARTS) - 1)


@dataclass(frozen=True)
class CountRow:
    """One line of a distribution: how many accounts under each version."""

    label: str
    active: int
    candidate: int

    @property
    def difference(self) -> int:
        return self.candidate - self.active


@dataclass(frozen=True)
class MovementRow:
    """Accounts of one band under the active version, by their band under the candidate
    (``counts`` in ``BAND_CODES`` order, worst first)."""

    band: str
    label: str
    counts: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class Backtest:
    active_version: int
    candidate_version: int
    at: datetime
    accounts: int
    bands: tuple[CountRow, ...]  # in BAND_CODES order, worst first
    buckets: tuple[CountRow, ...]  # 350-399 ... 900-950
    movement: tuple[MovementRow, ...]  # rows: band under active; columns: under candidate
    mean_active: float | None  # one decimal; None without accounts
    mean_candidate: float | None
    moved_up: int  # accounts in a better band under the candidate
    moved_down: int
    score_changed: int  # accounts whose score differs at all

    @property
    def band_labels(self) -> tuple[str, ...]:
        return tuple(BAND_LABELS[code] for code in BAND_CODES)


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 1) if count else None


def scorecard_backtest(
    *,
    candidate: Scorecard,
    at: datetime | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    """Score every active account at ``at`` (now by default) under the active scorecard
    and under ``candidate``. Reads in id-range chunks, as the nightly batch does; after
    each, ``progress`` (if given) is told (chunks done, chunks in all).

    Raises ``NoActiveScorecard`` without an active version and ``ScorecardInvalid`` if
    the candidate's definition cannot be compiled.
    """
    at = at or timezone.now()
    active = selectors.scorecard_active()
    active_card = selectors.scorecard_compiled(active)
    candidate_card = selectors.scorecard_compiled(candidate)
    band_index = {code: index for index, code in enumerate(BAND_CODES)}
    size = len(BAND_CODES)
    matrix = [[0] * size for _ in range(size)]
    buckets_active = [0] * len(BUCKET_STARTS)
    buckets_candidate = [0] * len(BUCKET_STARTS)
    accounts = total_active = total_candidate = score_changed = 0
    chunks = selectors.account_id_chunks(size=chunk_size or settings.SCORING_BATCH_CHUNK_SIZE)
    for done, (first_id, last_id) in enumerate(chunks, start=1):
        for _, features in selectors.features_for_accounts(
            first_id=first_id, last_id=last_id, at=at
        ):
            before = active_card.evaluate(features)
            after = candidate_card.evaluate(features)
            accounts += 1
            total_active += before.score
            total_candidate += after.score
            score_changed += before.score != after.score
            matrix[band_index[before.band]][band_index[after.band]] += 1
            buckets_active[bucket_index(before.score)] += 1
            buckets_candidate[bucket_index(after.score)] += 1
        if progress is not None:
            progress(done, len(chunks))
    return Backtest(
        active_version=active.version,
        candidate_version=candidate.version,
        at=at,
        accounts=accounts,
        bands=tuple(
            CountRow(
                label=BAND_LABELS[code],
                active=sum(matrix[index]),
                candidate=sum(row[index] for row in matrix),
            )
            for index, code in enumerate(BAND_CODES)
        ),
        buckets=tuple(
            CountRow(label=bucket_label(start), active=before, candidate=after)
            for start, before, after in zip(
                BUCKET_STARTS, buckets_active, buckets_candidate, strict=True
            )
        ),
        movement=tuple(
            MovementRow(band=code, label=BAND_LABELS[code], counts=tuple(row), total=sum(row))
            for code, row in zip(BAND_CODES, matrix, strict=True)
        ),
        mean_active=_mean(total_active, accounts),
        mean_candidate=_mean(total_candidate, accounts),
        moved_up=sum(matrix[i][j] for i in range(size) for j in range(i + 1, size)),
        moved_down=sum(matrix[i][j] for i in range(size) for j in range(i)),
        score_changed=score_changed,
    )

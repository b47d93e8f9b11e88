"""The training table of scorecard fitting: snapshots (the facts as they were when the
score was given) with the outcome that followed them (``scoring.outcomes``).

CONTRACT SKELETON: the signatures and dataclass below are fixed; bodies are filled in.

Built set-based: one statement per id range of accounts (``selectors.account_id_chunks``)
reads, for each citizen (active, not staff), one snapshot per calendar quarter (UTC) --
the last one taken in it (latest ``computed_at``, then highest id) -- among those mature
at ``as_of`` (taken at least ``OUTCOME_MATURE_DAYS`` before it), with its stored features
and whether a bad outcome was recorded in the window after it (an ``EXISTS`` over the
account's credit events, on the ``event_features`` index). Works on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from scoring.facts import Features


@dataclass(frozen=True)
class TrainingTable:
    """One row per sampled snapshot, ordered by (account id, taken_at).

    ``features`` holds ``Features`` field by field (columns ``Features._fields``, an older
    snapshot's stand-ins filled in as ``Features.from_dict`` does)."""

    as_of: datetime
    account_ids: np.ndarray  # int64
    snapshot_ids: np.ndarray  # int64
    scorecard_ids: np.ndarray  # int64: the version that scored the snapshot then
    scores: np.ndarray  # int64: the score it gave then
    taken_at: np.ndarray  # int64, epoch seconds
    features: np.ndarray  # int64, (rows, len(Features._fields))
    bad: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.account_ids)

    def features_rows(self, rows: np.ndarray | None = None) -> list[Features]:
        """Each row (or the rows at ``rows``, a mask or indexes) as ``Features``."""
        raise NotImplementedError

    def fact(self, key: str) -> np.ndarray:
        """The values of a scorable fact, float64 with NaN where absent."""
        raise NotImplementedError

    def facts_frame(self, keys: tuple[str, ...]) -> object:
        """A ``pandas.DataFrame`` of those facts (columns named by the keys), for
        ``scoring.fitting.fit``."""
        raise NotImplementedError


Progress = Callable[[int, str], None]


def training_table(*, as_of: datetime, progress: Progress | None = None) -> TrainingTable:
    """Every mature sampled snapshot at ``as_of`` with its outcome (read only)."""
    raise NotImplementedError

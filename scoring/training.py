"""The training table of scorecard fitting: snapshots (the facts as they were when the
score was given) with the outcome that followed them (``scoring.outcomes``).

Built set-based: one statement per id range of accounts (``selectors.account_id_chunks``)
reads, for each citizen (active, neither staff nor superuser), one snapshot per calendar
quarter (UTC) -- the last one taken in it (latest ``computed_at``, then highest id) --
among those mature at ``as_of`` (taken at least ``OUTCOME_MATURE_DAYS`` before it), with
its stored features and whether a bad outcome was recorded in the window after it (an
``EXISTS`` over the account's credit events, on the ``event_features`` index). Works on
PostgreSQL and SQLite.

One snapshot a quarter rather than every snapshot: a citizen scored every night would
otherwise weigh hundreds of times more than one scored twice a year, and the rows of one
citizen, taken days apart, would say the same thing again and again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection

from common.db import batch_int_rows
from scoring import selectors
from scoring.facts import DERIVED_FACTS, FACTS, MIN_STAYS_FOR_SHARE, Features
from scoring.models import EventStatus
from scoring.outcomes import (
    BAD_EVENT_KINDS,
    BAD_IF_UNSETTLED_KIND,
    CLAIM_UNPAID_DAYS,
    OUTCOME_MATURE_DAYS,
    OUTCOME_WINDOW_DAYS,
)

FIELDS: tuple[str, ...] = Features._fields
# Leading columns of a row of the statement, before the features and the outcome.
_HEAD = ("account_id", "snapshot_id", "scorecard_id", "score", "taken_at")
_WIDTH = len(_HEAD) + len(FIELDS) + 1


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
    _facts: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.account_ids)

    def features_rows(self, rows: np.ndarray | None = None) -> list[Features]:
        """Each row (or the rows at ``rows``, a mask or indexes) as ``Features``."""
        matrix = self.features if rows is None else self.features[rows]
        make = Features._make
        return [make(values) for values in matrix.tolist()]

    def fact(self, key: str) -> np.ndarray:
        """The values of a scorable fact, float64 with NaN where absent."""
        cached = self._facts.get(key)
        if cached is not None:
            return cached
        if key not in FACTS or (key not in FIELDS and key not in DERIVED_FACTS):
            raise KeyError(f"{key} is not a fact read from a snapshot's features")
        if key in FIELDS:
            values = self._column(key).astype(np.float64)
        elif key == "on_time_ratio_12m":
            values = on_time_ratios(
                self._column("on_time_payments_12m"), self._column("late_payments_12m")
            )
        else:
            values = stays_well_shares(
                self._column("bookings_completed"),
                self._column("no_shows_24m"),
                self._column("unpaid_claims"),
            )
        self._facts[key] = values
        return values

    def facts_frame(self, keys: tuple[str, ...]) -> pd.DataFrame:
        """A ``pandas.DataFrame`` of those facts (columns named by the keys), for
        ``scoring.fitting.fit``."""
        return pd.DataFrame({key: self.fact(key) for key in keys})

    def _column(self, name: str) -> np.ndarray:
        return self.features[:, FIELDS.index(name)]


# --- The derived facts, a column at a time ---------------------------------------------
# ``Features.on_time_ratio_12m`` and ``Features.stays_completed_well_24m`` over whole
# columns (millions of rows): the same whole percent, rounded down, and the same absence
# (tests/scoring/test_training.py checks them against the properties).


def on_time_ratios(on_time: np.ndarray, late: np.ndarray) -> np.ndarray:
    """``scoring.facts.on_time_ratio`` of each row: NaN without any bill."""
    total = on_time + late
    values = np.full(len(total), np.nan)
    some = total > 0
    values[some] = (100 * on_time[some]) // total[some]
    return values


def stays_well_shares(
    completed: np.ndarray, no_shows: np.ndarray, unpaid: np.ndarray
) -> np.ndarray:
    """``scoring.facts.stays_well_share`` of each row: NaN below ``MIN_STAYS_FOR_SHARE``."""
    stays = completed + no_shows + unpaid
    values = np.full(len(stays), np.nan)
    enough = stays >= MIN_STAYS_FOR_SHARE
    values[enough] = (100 * completed[enough]) // stays[enough]
    return values


# --- SQL -------------------------------------------------------------------------------

_CITIZENS = "u.is_active AND NOT u.is_staff AND NOT u.is_superuser"


def _plus_days_sql(column: str, days: int) -> str:
    """``column`` plus whole days, to the microsecond. On SQLite the datetime is text as
    Django stores it (``YYYY-MM-DD HH:MM:SS[.ffffff]``, UTC) and its date functions keep
    only milliseconds: the days are added to the date alone and the time is kept as it is.
    On PostgreSQL in hours, which no time zone's daylight saving shifts."""
    if connection.vendor == "postgresql":
        return f"({column} + INTERVAL '{days * 24} hours')"
    return f"(date(substr({column}, 1, 10), '+{days} days') || substr({column}, 11))"


def _quarter_sql(column: str) -> str:
    """The UTC calendar quarter of a datetime, as a value equal for two datetimes of the
    same quarter only."""
    if connection.vendor == "postgresql":
        return f"date_trunc('quarter', {column} AT TIME ZONE 'UTC')"
    return (
        f"(CAST(substr({column}, 1, 4) AS INTEGER) * 4"
        f" + (CAST(substr({column}, 6, 2) AS INTEGER) - 1) / 3)"
    )


def _bad_sql() -> str:
    """Whether a bad outcome (``scoring.outcomes``) followed the snapshot ``t``: an
    ``EXISTS`` over the account's credit events."""
    kinds = ", ".join(f"'{kind}'" for kind in BAD_EVENT_KINDS)
    return f"""CASE WHEN EXISTS (
         SELECT 1 FROM scoring_creditevent e
          WHERE e.account_id = t.account_id AND e.status <> '{EventStatus.REMOVED}'
            AND e.occurred_at > t.computed_at
            AND e.occurred_at <= {_plus_days_sql("t.computed_at", OUTCOME_WINDOW_DAYS)}
            AND (e.kind IN ({kinds})
                 OR (e.kind = '{BAD_IF_UNSETTLED_KIND}'
                     AND (e.settled_at IS NULL
                          OR e.settled_at > {_plus_days_sql("e.occurred_at", CLAIM_UNPAID_DAYS)})))
       ) THEN 1 ELSE 0 END"""  # noqa: S608 (constants only)


def training_sql() -> str:
    """The statement of one id range of accounts (``%(first_id)s``..``%(last_id)s``),
    for snapshots taken at or before ``%(mature_at)s``.

    One pass over the range's snapshots in the ``snapshot_current`` index's order
    (account, newest first): ``LAG`` gives each snapshot the quarter of the next newer
    one of its account, and a snapshot is the last of its quarter when that quarter
    differs (or there is none). No second sort by quarter, as ``ROW_NUMBER`` or
    ``DISTINCT ON`` per quarter would need; rows come out by account, newest first. The
    outcome is an ``EXISTS`` per row on ``event_features`` (index only). Read a range at
    a time (each in the batch's statement limit, with progress between them), the build
    takes about 1.5 times as long as one hand-written statement of the same rows over
    every account (``bench/fitting.py``): snapshots are stored in the order they were
    taken, so a range's are spread over the whole table."""
    if connection.vendor == "postgresql":
        taken = selectors.epoch_seconds_sql("t.computed_at")
    else:  # whole seconds rounded down, as on PostgreSQL (SQLite rounds to milliseconds)
        taken = selectors.epoch_seconds_sql("substr(t.computed_at, 1, 19)")
    features = ",\n       ".join(
        f"COALESCE({selectors.snapshot_feature_sql(name, alias='t')}, 0)" for name in FIELDS
    )
    quarter = _quarter_sql("s.computed_at")
    return f"""
SELECT t.account_id, t.id, t.scorecard_id, t.score, {taken},
       {features},
       {_bad_sql()}
  FROM (
    SELECT s.id, s.account_id, s.scorecard_id, s.score, s.computed_at, s.features,
           {quarter} AS quarter,
           LAG({quarter}) OVER (
             PARTITION BY s.account_id ORDER BY s.computed_at DESC, s.id DESC
           ) AS newer_quarter
      FROM scoring_scoresnapshot s
     WHERE s.account_id BETWEEN %(first_id)s AND %(last_id)s
       AND s.computed_at <= %(mature_at)s
  ) t
  JOIN wallet_user u ON u.id = t.account_id
 WHERE (t.newer_quarter IS NULL OR t.newer_quarter <> t.quarter) AND {_CITIZENS}
 ORDER BY t.account_id, t.computed_at DESC, t.id DESC
"""  # noqa: S608 (names and constants from the code)


Progress = Callable[[int, str], None]


def training_table(
    *, as_of: datetime, progress: Progress | None = None, chunk_size: int | None = None
) -> TrainingTable:
    """Every mature sampled snapshot at ``as_of`` with its outcome (read only)."""
    sql = training_sql()
    params: dict[str, Any] = {
        "mature_at": connection.ops.adapt_datetimefield_value(
            as_of - timedelta(days=OUTCOME_MATURE_DAYS)
        ),
    }
    chunks = selectors.account_id_chunks(size=chunk_size or settings.SCORING_BATCH_CHUNK_SIZE)
    parts: list[np.ndarray] = []
    count = 0
    for number, (first_id, last_id) in enumerate(chunks, start=1):
        params["first_id"], params["last_id"] = first_id, last_id
        # Compiling the statement (a range at a time) cost more than running it:
        # 1.4 s against 1 s for 10,000 accounts.
        rows = batch_int_rows(sql, params, _WIDTH, jit=False)
        if len(rows):
            # Newest first within an account, as read: oldest first, as the table is.
            parts.append(rows[np.lexsort((rows[:, 4], rows[:, 0]))])
            count += len(rows)
        if progress is not None:
            progress(int(100 * number / len(chunks)), f"read {count} snapshots")
    rows = np.concatenate(parts) if parts else np.zeros((0, _WIDTH), dtype=np.int64)
    head = len(_HEAD)
    columns = np.ascontiguousarray(rows[:, :head].T)
    return TrainingTable(
        as_of=as_of,
        account_ids=columns[0],
        snapshot_ids=columns[1],
        scorecard_ids=columns[2],
        scores=columns[3],
        taken_at=columns[4],
        features=np.ascontiguousarray(rows[:, head : head + len(FIELDS)]),
        bad=rows[:, -1].astype(bool),
    )

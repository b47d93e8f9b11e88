"""The population a fairness audit or a dry-run examines: every active citizen account
at one moment, with what the score reads (its features), the groups it belongs to and
the outcomes known about it.

Read set-based, in the batch's id ranges (``scoring.selectors.account_id_chunks``): one
statement per range for the accounts (with their current snapshot when the scores of
what is live are wanted), one for the wallet balances, one for the outcomes, one for the
volunteered attributes. Nothing is written.

Groups (the dimensions of the audit, in their order):

- ``wealth_quintile``: the average wallet balance over the 90 days before the moment,
  in fifths of the audited population (``q1`` the lowest). The average is *day-weighted*:
  the mean of the wallet's balance at the moment and at the same time of day on each of
  the 89 days before, from the ledger's entries (a balance before the account opened is
  0). Fifths are cut as SQL's ``NTILE(5) OVER (ORDER BY average, account id)``: sizes
  differ by at most one, the first fifths taking the extra members, and accounts with the
  same average are ordered by id.
- ``identity_level``: the account's identity level now (0 none, 1 phone, 2 document).
- ``account_age_band``: days since the account was opened: under 90, 90 to 364,
  365 to 729, 730 or more.
- ``age_band``, ``sex``: what the citizen volunteered (``MonitoringAttributes``); those
  who did not are left out of that dimension.

Governance is the only code that reads wallet balances for scoring purposes, and only
here, for the audit: a balance is never a fact.

Outcomes (one definition, for the audit's error rates): an account's outcome is *known*
when it had at least one stay record (a booking completed, a no-show, a claim paid or
unpaid) that a dispute did not remove, in the ``OUTCOME_WINDOW_DAYS`` (365) days up to
the moment; it then *had a no-show* or *had an unpaid claim* when one of those records
is of that kind (a claim paid later still had been unpaid).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from common.db import statement_timeout
from governance.models import AgeBand, Sex
from scoring import selectors
from scoring.facts import BAND_CODES, FACTS, EventKinds, Features
from scoring.models import EventStatus, Scorecard
from wallet.models import AccountKind, IdentityLevel

WEALTH_WINDOW_DAYS = 90
OUTCOME_WINDOW_DAYS = 365
QUINTILES = 5
_DAY_SECONDS = 86_400
# Facts that are results of a scorecard, not read from an account.
SCORE_FACTS = ("score", "band")


@dataclass(frozen=True)
class Group:
    key: str
    label: str


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    groups: tuple[Group, ...]


ACCOUNT_AGE_BANDS: tuple[tuple[int, str, str], ...] = (
    # (fewest days, key, label)
    (0, "<90d", "Under 90 days"),
    (90, "90d-1y", "90 days to a year"),
    (365, "1-2y", "1 to 2 years"),
    (730, "2y+", "2 years or more"),
)

DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "wealth_quintile",
        "Wealth (average wallet balance over 90 days)",
        (
            Group("q1", "Lowest fifth"),
            Group("q2", "Second fifth"),
            Group("q3", "Middle fifth"),
            Group("q4", "Fourth fifth"),
            Group("q5", "Highest fifth"),
        ),
    ),
    Dimension(
        "identity_level",
        "Identity verification",
        tuple(Group(str(level.value), str(level.label)) for level in IdentityLevel),
    ),
    Dimension(
        "account_age_band",
        "Account age",
        tuple(Group(key, label) for _, key, label in ACCOUNT_AGE_BANDS),
    ),
    Dimension(
        "age_band",
        "Age band (volunteered)",
        tuple(Group(str(band.value), str(band.label)) for band in AgeBand),
    ),
    Dimension(
        "sex",
        "Sex (volunteered)",
        tuple(Group(str(sex.value), str(sex.label)) for sex in Sex),
    ),
)
DIMENSION_KEYS: tuple[str, ...] = tuple(dimension.key for dimension in DIMENSIONS)
WEALTH = "wealth_quintile"


@dataclass(frozen=True)
class Population:
    """Every active citizen account at ``at``, one row each (arrays in account id order).

    ``features`` holds ``Features`` field by field (columns ``feature_fields``). When the
    scores of what is live were asked for (``scored_by`` the active scorecard's id), the
    rows whose current snapshot that scorecard made carry its score, band (index in
    ``BAND_CODES``) and points (columns ``points_keys``), ``scored`` true; the others
    (never scored, or scored by an older version) carry features computed at ``at``.
    ``groups`` maps each dimension to each account's group: its index in the
    dimension's ``groups``, -1 when left out."""

    at: datetime
    account_ids: np.ndarray
    feature_fields: tuple[str, ...]
    features: np.ndarray
    groups: dict[str, np.ndarray]
    balance_average: np.ndarray
    """The day-weighted average balance over 90 days, minor units."""
    outcome_known: np.ndarray
    had_no_show: np.ndarray
    had_unpaid_claim: np.ndarray
    scored_by: int | None = None
    scored: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    bands: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    points_keys: tuple[str, ...] = ()
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    outcome_window_days: int = OUTCOME_WINDOW_DAYS
    _facts: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.account_ids)

    def group_keys(self, dimension_key: str) -> list[str | None]:
        """Each account's group key in that dimension (None: left out)."""
        dimension = next(d for d in DIMENSIONS if d.key == dimension_key)
        keys = [group.key for group in dimension.groups]
        return [keys[code] if code >= 0 else None for code in self.groups[dimension_key].tolist()]

    def features_rows(self, rows: np.ndarray | None = None) -> list[Features]:
        """The features of every row (or of ``rows``, indexes), as ``Features``."""
        matrix = self.features if rows is None else self.features[rows]
        make = Features._make
        return [make(values) for values in matrix.tolist()]

    def fact(self, key: str) -> np.ndarray:
        """The values of a fact read from the account (not the score or band), as floats
        with NaN where it is absent (the on-time ratio without bills)."""
        cached = self._facts.get(key)
        if cached is not None:
            return cached
        if key in SCORE_FACTS or key not in FACTS:
            raise KeyError(f"{key} is not a fact of the account")
        if key in self.feature_fields:
            values = self.features[:, self.feature_fields.index(key)].astype(np.float64)
        else:  # a fact derived from the features (a property of ``Features``)
            values = np.array(
                [
                    np.nan if (value := getattr(features, key)) is None else value
                    for features in self.features_rows()
                ],
                dtype=np.float64,
            )
        self._facts[key] = values
        return values


Progress = Callable[[int, str], None]


def _no_progress(percent: int, note: str = "") -> None:
    return None


# --- SQL -------------------------------------------------------------------------------


_CITIZENS = "u.is_active AND NOT u.is_staff AND NOT u.is_superuser"


def _accounts_sql(fields: tuple[str, ...], points_keys: tuple[str, ...], *, live: bool) -> str:
    """Per account in the id range: id, identity level, days since it opened, and (live)
    its current snapshot's scorecard, score, band, features and points."""
    age = f"(%(at_epoch)s - {selectors.epoch_seconds_sql('u.date_joined')}) / {_DAY_SECONDS}"
    columns = ["u.id", "u.identity_level", age]
    join = ""
    if live:
        columns += ["s.scorecard_id", "s.score", "s.band"]
        columns += [selectors.snapshot_feature_sql(name) for name in fields]
        columns += [selectors.json_int_sql("s.points", key) for key in points_keys]
        if connection.vendor == "postgresql":
            # The range's current snapshots in one ordered pass over ``snapshot_current``
            # (five times faster than a subquery per account).
            join = (
                "LEFT JOIN (SELECT DISTINCT ON (account_id) account_id, scorecard_id, score,"
                " band, features, points FROM scoring_scoresnapshot"
                " WHERE account_id BETWEEN %(first_id)s AND %(last_id)s"
                " ORDER BY account_id, computed_at DESC, id DESC) s ON s.account_id = u.id"
            )
        else:
            join = (
                "LEFT JOIN scoring_scoresnapshot s"
                f" ON s.id = {selectors.snapshot_current_id_sql('u.id')}"
            )
    return f"""
SELECT {", ".join(columns)}
  FROM wallet_user u {join}
 WHERE u.id BETWEEN %(first_id)s AND %(last_id)s AND {_CITIZENS}
 ORDER BY u.id
"""  # noqa: S608 (names from the code and a validated scorecard)


def balance_weight_sql() -> str:
    """How many of the 90 daily balances (at the moment, and at the same time on each of
    the 89 days before) an entry ``e`` made at or before the moment is part of: 90 for
    one older than the window, 1 for one made in the last day. Whole seconds, alike on
    PostgreSQL and SQLite; ``%(at_epoch)s`` is the moment in whole seconds."""
    seconds = selectors.epoch_seconds_sql("e.created_at")
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"
    return f"{least}({WEALTH_WINDOW_DAYS}, (%(at_epoch)s - {seconds}) / {_DAY_SECONDS} + 1)"


def _balances_sql() -> str:
    """Every wallet's balances weighted by day, in one pass over the ledger's entries
    (an index range per chunk would read the entries of every chunk again)."""
    return f"""
SELECT a.user_id, SUM(e.amount * {balance_weight_sql()})
  FROM wallet_ledgeraccount a
  JOIN wallet_entry e ON e.account_id = a.id
 WHERE a.kind = %(wallet)s AND e.created_at <= %(at)s
 GROUP BY a.user_id
"""  # noqa: S608 (constants only)


STAY_KINDS = (
    EventKinds.BOOKING_COMPLETED,
    EventKinds.NO_SHOW,
    EventKinds.CLAIM_PAID,
    EventKinds.CLAIM_UNPAID,
)


def _outcomes_sql() -> str:
    kinds = ", ".join(f"'{kind}'" for kind in STAY_KINDS)
    return f"""
SELECT account_id,
       MAX(CASE WHEN kind = '{EventKinds.NO_SHOW}' THEN 1 ELSE 0 END),
       MAX(CASE WHEN kind = '{EventKinds.CLAIM_UNPAID}' THEN 1 ELSE 0 END)
  FROM scoring_creditevent
 WHERE account_id BETWEEN %(first_id)s AND %(last_id)s
   AND kind IN ({kinds}) AND status <> '{EventStatus.REMOVED}'
   AND occurred_at > %(outcome_from)s AND occurred_at <= %(at)s
 GROUP BY account_id
"""  # noqa: S608 (constants only)


_VOLUNTEERED_SQL = """
SELECT user_id, age_band, sex FROM governance_monitoringattributes ORDER BY user_id
"""


def _rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _streamed(sql: str, params: dict[str, Any], width: int) -> np.ndarray:
    """A statement's rows of whole numbers as an (n, width) array, fetched in batches.
    One pass over a whole table: it may take longer than a request's statement limit,
    so it has the nightly batch's."""
    parts = []
    limit = settings.SCORING_BATCH_STATEMENT_TIMEOUT_MS / 1000
    with transaction.atomic(), statement_timeout(limit), connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(50_000):
            parts.append(np.array(batch, dtype=np.int64).reshape(-1, width))
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)


def _ints(values: Iterable[Any]) -> np.ndarray:
    """Whole numbers, NULL as 0 (a feature an old snapshot did not store)."""
    array = np.array(list(values), dtype=np.float64)
    return np.nan_to_num(array, nan=0.0).astype(np.int64)


def account_age_band(days: int) -> str:
    key = ACCOUNT_AGE_BANDS[0][1]
    for fewest, band, _ in ACCOUNT_AGE_BANDS:
        if days >= fewest:
            key = band
    return key


def account_age_codes(days: np.ndarray) -> np.ndarray:
    """Each account's age band as its index in ``ACCOUNT_AGE_BANDS``."""
    starts = np.array([fewest for fewest, _, _ in ACCOUNT_AGE_BANDS])
    return (np.searchsorted(starts, np.maximum(days, 0), side="right") - 1).astype(np.int64)


def quintiles(weighted: np.ndarray, account_ids: np.ndarray) -> np.ndarray:
    """Each account's fifth (0..4) as ``NTILE(5) OVER (ORDER BY weighted, id)``."""
    count = len(account_ids)
    order = np.lexsort((account_ids, weighted))
    base, extra = divmod(count, QUINTILES)
    sizes = [base + (1 if index < extra else 0) for index in range(QUINTILES)]
    ranks = np.repeat(np.arange(QUINTILES), sizes)
    result = np.empty(count, dtype=np.int64)
    result[order] = ranks
    return result


def _placed(account_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows of the population, which of ``ids`` are in it): where each id sits."""
    rows = np.searchsorted(account_ids, ids)
    inside = rows < len(account_ids)
    inside[inside] = account_ids[rows[inside]] == ids[inside]
    return rows[inside], inside


# --- Loading ---------------------------------------------------------------------------


def population_load(
    *,
    at: datetime | None = None,
    progress: Progress | None = None,
    scores_of: Scorecard | None = None,
    chunk_size: int | None = None,
) -> Population:
    """Every active citizen account (active, not staff) at ``at`` (now by default).

    Given ``scores_of`` (the active scorecard: what is live), each account's current
    snapshot made by it gives its score, band, points and features, as merchants read
    them; accounts without one get their features computed at ``at`` (as all do without
    ``scores_of``), to be scored by the caller."""
    at = at or timezone.now()
    report = progress or _no_progress
    adapt = connection.ops.adapt_datetimefield_value
    fields: tuple[str, ...] = Features._fields
    width = len(fields)
    live = scores_of is not None
    points_keys: tuple[str, ...] = ()
    if scores_of is not None:
        points_keys = selectors.scorecard_compiled(scores_of).factor_keys
    accounts_sql = _accounts_sql(fields, points_keys, live=live)
    params: dict[str, Any] = {
        "at": adapt(at),
        "at_epoch": int(at.timestamp()),
        "outcome_from": adapt(at - timedelta(days=OUTCOME_WINDOW_DAYS)),
        "wallet": AccountKind.WALLET,
    }
    band_index = {code: index for index, code in enumerate(BAND_CODES)}
    parts: dict[str, list[np.ndarray]] = {
        name: []
        for name in ("ids", "levels", "ages", "features", "scored", "scores", "bands", "points")
    }
    outcome_parts: list[np.ndarray] = []
    chunks = selectors.account_id_chunks(size=chunk_size or settings.SCORING_BATCH_CHUNK_SIZE)
    count = 0
    for number, (first_id, last_id) in enumerate(chunks, start=1):
        params["first_id"], params["last_id"] = first_id, last_id
        rows = _rows(accounts_sql, params)
        outcomes = _rows(_outcomes_sql(), params)
        if outcomes:
            outcome_parts.append(np.array(outcomes, dtype=np.int64).reshape(-1, 3))
        if not rows:
            continue
        columns = list(zip(*rows, strict=True))
        ids = np.array(columns[0], dtype=np.int64)
        size = len(ids)
        parts["ids"].append(ids)
        parts["levels"].append(np.array(columns[1], dtype=np.int64))
        parts["ages"].append(np.array(columns[2], dtype=np.int64))
        features = np.zeros((size, width), dtype=np.int64)
        scored = np.zeros(size, dtype=bool)
        scores = np.zeros(size, dtype=np.int64)
        bands = np.full(size, -1, dtype=np.int64)
        points = np.zeros((size, len(points_keys)), dtype=np.int64)
        if scores_of is not None:
            scored = np.array(columns[3], dtype=np.float64) == scores_of.pk
            if scored.any():
                scores[scored] = _ints(columns[4])[scored]
                bands[scored] = [
                    band_index[band] for band, ok in zip(columns[5], scored, strict=True) if ok
                ]
                for index in range(width):
                    features[:, index] = _ints(columns[6 + index])
                for index in range(len(points_keys)):
                    points[:, index] = _ints(columns[6 + width + index])
        missing = np.flatnonzero(~scored)
        if len(missing):
            wanted = ids[missing].tolist()
            computed = dict(
                selectors.features_for_accounts(
                    first_id=first_id,
                    last_id=last_id,
                    at=at,
                    account_ids=None if len(wanted) == size else wanted,
                )
            )
            features[missing] = [computed[pk] for pk in wanted]
        for name, value in (
            ("features", features),
            ("scored", scored),
            ("scores", scores),
            ("bands", bands),
            ("points", points),
        ):
            parts[name].append(value)
        count += size
        report(int(50 * number / len(chunks)), f"read {count} accounts")

    def joined(name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        return np.concatenate(parts[name]) if parts[name] else np.zeros(shape, dtype=dtype)

    account_ids = joined("ids", (0,), np.int64)
    weighted = np.zeros(len(account_ids), dtype=np.int64)
    balances = _streamed(_balances_sql(), params, 2)
    rows_of, inside = _placed(account_ids, balances[:, 0])
    weighted[rows_of] = balances[inside, 1]
    report(55, "read the balances")
    known = np.zeros(len(account_ids), dtype=bool)
    no_show = np.zeros(len(account_ids), dtype=bool)
    unpaid = np.zeros(len(account_ids), dtype=bool)
    if outcome_parts:
        outcome_rows = np.concatenate(outcome_parts)
        rows_of, inside = _placed(account_ids, outcome_rows[:, 0])
        known[rows_of] = True
        no_show[rows_of] = outcome_rows[inside, 1] > 0
        unpaid[rows_of] = outcome_rows[inside, 2] > 0
    groups = _groups(
        account_ids,
        joined("levels", (0,), np.int64),
        joined("ages", (0,), np.int64),
        weighted,
    )
    report(60, "grouped")
    return Population(
        at=at,
        account_ids=account_ids,
        feature_fields=fields,
        features=joined("features", (0, width), np.int64),
        groups=groups,
        balance_average=weighted / WEALTH_WINDOW_DAYS,
        outcome_known=known,
        had_no_show=no_show,
        had_unpaid_claim=unpaid,
        scored_by=scores_of.pk if scores_of is not None else None,
        scored=joined("scored", (0,), bool),
        scores=joined("scores", (0,), np.int64),
        bands=joined("bands", (0,), np.int64),
        points_keys=points_keys,
        points=joined("points", (0, len(points_keys)), np.int64),
    )


def _codes_of(values: list[str], dimension_key: str) -> dict[str, int]:
    dimension = next(d for d in DIMENSIONS if d.key == dimension_key)
    position = {group.key: index for index, group in enumerate(dimension.groups)}
    return {value: position.get(value, -1) for value in values}


def _groups(
    account_ids: np.ndarray, levels: np.ndarray, ages: np.ndarray, weighted: np.ndarray
) -> dict[str, np.ndarray]:
    count = len(account_ids)
    identity_keys = [group.key for group in DIMENSIONS[1].groups]
    identity = np.full(count, -1, dtype=np.int64)
    for index, key in enumerate(identity_keys):
        identity[levels == int(key)] = index
    age_band = np.full(count, -1, dtype=np.int64)
    sex = np.full(count, -1, dtype=np.int64)
    volunteered = _rows(_VOLUNTEERED_SQL, {})
    if volunteered:
        users, bands, answers = zip(*volunteered, strict=True)
        rows_of, inside = _placed(account_ids, np.array(users, dtype=np.int64))
        band_codes = _codes_of(sorted(set(bands)), "age_band")
        sex_codes = _codes_of(sorted(set(answers)), "sex")
        age_band[rows_of] = [band_codes[band] for band in np.array(bands, dtype=object)[inside]]
        sex[rows_of] = [sex_codes[answer] for answer in np.array(answers, dtype=object)[inside]]
    return {
        "wealth_quintile": quintiles(weighted, account_ids) if count else np.zeros(0, np.int64),
        "identity_level": identity,
        "account_age_band": account_age_codes(ages),
        "age_band": age_band,
        "sex": sex,
    }

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
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from governance.models import AgeBand, MonitoringAttributes, Sex
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
    ``groups`` maps each dimension to each account's group key (None: left out)."""

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


def _json_int(column: str, key: str) -> str:
    """An integer member of a JSON column (NULL when absent); ``key`` is an identifier
    of the code or a validated scorecard."""
    if not key.isidentifier():
        raise ValueError(f"not a JSON key the audit reads: {key!r}")
    if connection.vendor == "postgresql":
        return f"({column} ->> '{key}')::bigint"
    return f"json_extract({column}, '$.{key}')"


_CITIZENS = "u.is_active AND NOT u.is_staff AND NOT u.is_superuser"


def _accounts_sql(fields: tuple[str, ...], points_keys: tuple[str, ...], *, live: bool) -> str:
    if not live:
        return (
            "SELECT u.id, u.identity_level, u.date_joined FROM wallet_user u "  # noqa: S608
            f"WHERE u.id BETWEEN %(first_id)s AND %(last_id)s AND {_CITIZENS} ORDER BY u.id"
        )
    columns = [_json_int("s.features", name) for name in fields]
    columns += [_json_int("s.points", key) for key in points_keys]
    return f"""
SELECT u.id, u.identity_level, u.date_joined, s.scorecard_id, s.score, s.band,
       {", ".join(columns)}
  FROM wallet_user u
  LEFT JOIN scoring_scoresnapshot s ON s.id = {selectors.snapshot_current_id_sql("u.id")}
 WHERE u.id BETWEEN %(first_id)s AND %(last_id)s AND {_CITIZENS}
 ORDER BY u.id
"""  # noqa: S608 (names from the code and a validated scorecard)


def balance_weight_sql() -> str:
    """How many of the 90 daily balances (at the moment, and at the same time on each of
    the 89 days before) an entry ``e`` made at or before the moment is part of: 90 for
    one older than the window, 1 for one made in the last day. Whole seconds, alike on
    PostgreSQL and SQLite; ``%(at_epoch)s`` is the moment in whole seconds."""
    if connection.vendor == "postgresql":
        seconds = "FLOOR(EXTRACT(EPOCH FROM e.created_at))::bigint"
        return f"LEAST({WEALTH_WINDOW_DAYS}, (%(at_epoch)s - {seconds}) / {_DAY_SECONDS} + 1)"
    seconds = "CAST(strftime('%%s', e.created_at) AS INTEGER)"
    return f"MIN({WEALTH_WINDOW_DAYS}, (%(at_epoch)s - {seconds}) / {_DAY_SECONDS} + 1)"


def _balances_sql() -> str:
    return f"""
SELECT a.user_id, SUM(e.amount * {balance_weight_sql()})
  FROM wallet_ledgeraccount a
  JOIN wallet_entry e ON e.account_id = a.id
 WHERE a.kind = %(wallet)s AND a.user_id BETWEEN %(first_id)s AND %(last_id)s
   AND e.created_at <= %(at)s
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


def _rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def account_age_band(days: int) -> str:
    key = ACCOUNT_AGE_BANDS[0][1]
    for fewest, band, _ in ACCOUNT_AGE_BANDS:
        if days >= fewest:
            key = band
    return key


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
    live = scores_of is not None
    points_keys: tuple[str, ...] = ()
    if scores_of is not None:
        points_keys = selectors.scorecard_compiled(scores_of).factor_keys
    accounts_sql = _accounts_sql(fields, points_keys, live=live)
    balances_sql, outcomes_sql = _balances_sql(), _outcomes_sql()
    params: dict[str, Any] = {
        "at": adapt(at),
        "at_epoch": int(at.timestamp()),
        "outcome_from": adapt(at - timedelta(days=OUTCOME_WINDOW_DAYS)),
        "wallet": AccountKind.WALLET,
    }
    band_index = {code: index for index, code in enumerate(BAND_CODES)}
    ids: list[int] = []
    levels: list[int] = []
    ages: list[int] = []
    feature_rows: list[tuple[int, ...]] = []
    scored: list[bool] = []
    scores: list[int] = []
    bands: list[int] = []
    points: list[tuple[int, ...]] = []
    weighted: list[int] = []
    known: list[bool] = []
    no_show: list[bool] = []
    unpaid: list[bool] = []
    chunks = selectors.account_id_chunks(size=chunk_size or settings.SCORING_BATCH_CHUNK_SIZE)
    zero_points = (0,) * len(points_keys)
    width = len(fields)
    for number, (first_id, last_id) in enumerate(chunks, start=1):
        params["first_id"], params["last_id"] = first_id, last_id
        rows = _rows(accounts_sql, params)
        if not rows:
            continue
        computed: dict[int, Features] = {}
        if live:
            missing = [
                row[0]
                for row in rows
                if row[3] != scores_of.pk  # type: ignore[union-attr]
            ]
            if missing:
                computed = dict(
                    selectors.features_for_accounts(
                        first_id=first_id, last_id=last_id, at=at, account_ids=missing
                    )
                )
        else:
            computed = dict(
                selectors.features_for_accounts(first_id=first_id, last_id=last_id, at=at)
            )
        balances = dict(_rows(balances_sql, params))
        outcomes = {row[0]: row[1:] for row in _rows(outcomes_sql, params)}
        for row in rows:
            pk, level, joined = row[0], row[1], row[2]
            ids.append(pk)
            levels.append(level)
            ages.append(max((at - _aware(joined)).days, 0))
            if live and row[3] == scores_of.pk:  # type: ignore[union-attr]
                values = row[6 : 6 + width]
                feature_rows.append(tuple(value or 0 for value in values))
                scored.append(True)
                scores.append(row[4])
                bands.append(band_index[row[5]])
                points.append(tuple(value or 0 for value in row[6 + width :]))
            else:
                feature_rows.append(tuple(computed[pk]))
                scored.append(False)
                scores.append(0)
                bands.append(-1)
                points.append(zero_points)
            weighted.append(int(balances.get(pk) or 0))
            outcome = outcomes.get(pk)
            known.append(outcome is not None)
            no_show.append(bool(outcome and outcome[0]))
            unpaid.append(bool(outcome and outcome[1]))
        report(int(60 * number / len(chunks)), f"read {len(ids)} accounts")
    account_ids = np.array(ids, dtype=np.int64)
    weighted_array = np.array(weighted, dtype=np.int64)
    groups = _groups(account_ids, levels, ages, weighted_array)
    return Population(
        at=at,
        account_ids=account_ids,
        feature_fields=fields,
        features=np.array(feature_rows, dtype=np.int64).reshape(len(ids), width),
        groups=groups,
        balance_average=weighted_array / WEALTH_WINDOW_DAYS,
        outcome_known=np.array(known, dtype=bool),
        had_no_show=np.array(no_show, dtype=bool),
        had_unpaid_claim=np.array(unpaid, dtype=bool),
        scored_by=scores_of.pk if scores_of is not None else None,
        scored=np.array(scored, dtype=bool),
        scores=np.array(scores, dtype=np.int64),
        bands=np.array(bands, dtype=np.int64),
        points_keys=points_keys,
        points=np.array(points, dtype=np.int64).reshape(len(ids), len(points_keys)),
    )


def _groups(
    account_ids: np.ndarray, levels: list[int], ages: list[int], weighted: np.ndarray
) -> dict[str, np.ndarray]:
    count = len(account_ids)
    wealth = np.empty(count, dtype=object)
    if count:
        wealth[:] = [f"q{index + 1}" for index in quintiles(weighted, account_ids)]
    identity = np.array([str(level) for level in levels], dtype=object)
    age = np.array([account_age_band(days) for days in ages], dtype=object)
    age_band = np.full(count, None, dtype=object)
    sex = np.full(count, None, dtype=object)
    position = {pk: index for index, pk in enumerate(account_ids.tolist())}
    volunteered: Iterable[tuple[int, str, str]] = MonitoringAttributes.objects.values_list(
        "user_id", "age_band", "sex"
    ).iterator(chunk_size=10_000)
    for user_id, band, answer in volunteered:
        index = position.get(user_id)
        if index is None:
            continue
        age_band[index] = band or None
        sex[index] = answer or None
    return {
        "wealth_quintile": wealth,
        "identity_level": identity,
        "account_age_band": age,
        "age_band": age_band,
        "sex": sex,
    }

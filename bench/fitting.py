"""Fitting a scorecard from outcomes: the training table against one hand-written SQL of
the same rows, then the out-of-time split, the fit and its evaluation.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame \\
        python -m bench.fitting --accounts 1000000 --repeat 1 [--reuse] [--explain]

Uses a database of its own (``bench_fitting``, or ``BENCH_DATABASE``; created and
migrated like the test database; never the one DATABASE_URL names). PostgreSQL only.

1. Generates N citizens (``bench.recompute``'s accounts, opened over the last four years)
   with up to ``HISTORY_DAYS`` (about two and a half years) of history, in set-based SQL
   (INSERT ... SELECT over generate_series). Each citizen has a hidden reliability: a
   risk factor ``0.05 + 4 * u**3`` (u uniform), higher for an unverified identity. It
   drives both what the snapshots say and what happens after them, so that outcomes are
   predictable from the facts, as they are in life:

   - snapshots about every ``SNAPSHOT_SPACING_DAYS`` (some quarters have two, a few
     none), scored by the active scorecard, their features as ``Features.as_dict``
     writes them; those older than ``NEW_FEATURES_DAYS`` lack ``no_shows_24m`` and the
     share of stays completed well, as snapshots written before those existed do. Each
     count is drawn (geometric, overdispersed like real counts) around the citizen's
     rate of that kind of record over the fact's window;
   - credit events at the same rates over the history: bills on time, late and
     overdue, bookings, no-shows, claims paid and unpaid (of those, a third paid within
     30 days, a fifth later, the rest never), a few disputed and a few removed by a dispute.

   ``--reuse`` keeps the database and its data for the next run with the same N; the
   training table is then read as of the moment the data was generated, as before.
2. Times, interleaved ``--repeat`` times: the training table
   (``scoring.training.training_table``) and one hand-written statement of the same rows
   (the leanest PostgreSQL: DISTINCT ON per account and quarter, an EXISTS over the
   account's events for the outcome, without JIT, every row fetched and made into
   arrays in the table's order). Both run with the server's ``work_mem``. Checks
   both have the same rows: count, bad count and a checksum of the snapshot ids with
   their outcome.
3. Times the out-of-time split, the fit (``scoring.fitting.fit`` of every scorable fact
   on the older rows) and its evaluation (the draft's scores on the newest rows, AUC,
   Gini, KS, bad rate per decile and band, the active scorecard's on the same rows, PSI).

Prints a line per phase and repeat (the first with the draft's figures: metrics, bins
and points per fact, bad rate per decile and band), then a line per phase with the
median and the spread (least..most) of its seconds, the ratio of each run, and last::

    build: N accounts, R rows in X s; hand SQL Y s; ratio X/Y; agree: true|false
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import logging
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import django
import numpy as np

os.environ["CELERY_BROKER_URL"] = ""
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from bench.bulk import execute, keys_rebuilt  # noqa: E402
from bench.recompute import USERS_SQL, WITH_AMOUNT, _points_sql, _quoted, _window_case  # noqa: E402
from scoring import fitting, outcomes, selectors, training  # noqa: E402
from scoring.facts import (  # noqa: E402
    BANDS,
    DAYS_12_MONTHS,
    DAYS_24_MONTHS,
    FACTS,
    FEATURE_STAND_INS,
    MIN_STAYS_FOR_SHARE,
    EventKinds,
    Features,
)
from scoring.models import EventStatus  # noqa: E402

BENCH_DATABASE = os.environ.get("BENCH_DATABASE") or "bench_fitting"
# Bump when the generated data changes, so that --reuse regenerates it.
GENERATOR_VERSION = 2
SEED = 0.2121
HISTORY_DAYS = 913  # snapshots and events over the last ~30 months (less if newer)
SNAPSHOT_SPACING_DAYS = 80  # a snapshot about every 80 days: ~4.5 a year
SNAPSHOT_JITTER_DAYS = 40
# Snapshots older than this were written before ``no_shows_24m`` (and the share of stays
# completed well, computed from it) were stored: their features lack both.
NEW_FEATURES_DAYS = 700
OPEN_DISPUTE_SHARE = 0.02
REMOVED_SHARE = 0.04
DISPUTED_SHARE = 0.02
# Of the unpaid claims: paid within the 30 days, paid later; the rest are never paid.
CLAIM_PAID_SOON_SHARE = 0.35
CLAIM_PAID_LATE_SHARE = 0.20
GENERATED_TABLES = ("wallet_user", "scoring_creditevent", "scoring_scoresnapshot")

# The citizen's records per year: (kind, a year's records at no risk, more per unit of
# risk). The snapshots' counts are drawn at the same rates over their windows.
KIND_RATES: tuple[tuple[str, float, float], ...] = (
    (EventKinds.BILL_PAID_ON_TIME, 2.5, 0.0),
    (EventKinds.BILL_PAID_LATE, 0.0, 2.0),
    (EventKinds.BILL_OVERDUE, 0.0, 0.1),
    (EventKinds.BOOKING_COMPLETED, 1.2, 0.0),
    (EventKinds.NO_SHOW, 0.0, 0.1),
    (EventKinds.CLAIM_PAID, 0.1, 0.0),
    (EventKinds.CLAIM_UNPAID, 0.0, 0.04),
)
RATES = {kind: (base, per_risk) for kind, base, per_risk in KIND_RATES}


# --- Data ------------------------------------------------------------------------------

# Each citizen's hidden risk, and where their history starts.
PEOPLE_SQL = f"""
CREATE UNLOGGED TABLE bench_fit_people AS
SELECT id, identity_level, date_joined,
       GREATEST(date_joined, %(now)s - make_interval(secs => {HISTORY_DAYS * 86400}))
           AS history_from,
       (0.05 + 4 * u ^ 3) * (1.2 - 0.2 * identity_level) AS risk
FROM (SELECT id, identity_level, date_joined, random() AS u FROM wallet_user) AS drawn
"""  # noqa: S608 (constants only)


def _rate_sql(kind: str, years: str) -> str:
    base, per_risk = RATES[kind]
    return f"(({base} + {per_risk} * risk) * {years})"


def _geometric_sql(mean: str) -> str:
    """A whole number drawn with the given mean (geometric: most are 0 or near it, a few
    far above, like counts of people's records)."""
    return (
        f"(CASE WHEN {mean} > 0 THEN floor(ln(1 - random()) / ln({mean} / ({mean} + 1)))::int "
        "ELSE 0 END)"
    )


def _events_sql() -> str:
    per_year = " + ".join(_rate_sql(kind, "1") for kind, _, _ in KIND_RATES)
    whens = []
    cumulative = []
    for kind, _, _ in KIND_RATES:
        cumulative.append(_rate_sql(kind, "1"))
        whens.append(f"WHEN r_kind * total < {' + '.join(cumulative)} THEN '{kind}'")
    kind_case = f"CASE {' '.join(whens)} END"
    settled = (
        f"CASE WHEN kind <> '{EventKinds.CLAIM_UNPAID}' THEN NULL "
        f"WHEN r_settle < {CLAIM_PAID_SOON_SHARE} "
        "THEN occurred_at + make_interval(secs => 86400 * (1 + r_days * 28)) "
        f"WHEN r_settle < {CLAIM_PAID_SOON_SHARE + CLAIM_PAID_LATE_SHARE} "
        "THEN occurred_at + make_interval(secs => 86400 * (31 + r_days * 150)) END"
    )
    status = (
        f"CASE WHEN r_status < {REMOVED_SHARE} THEN '{EventStatus.REMOVED}' "
        f"WHEN r_status < {REMOVED_SHARE + DISPUTED_SHARE} THEN '{EventStatus.DISPUTED}' "
        f"ELSE '{EventStatus.ACTIVE}' END"
    )
    return f"""
INSERT INTO scoring_creditevent (
    id, account_id, kind, occurred_at, counts_until, amount, currency, source, subject,
    description, status, settled_at, recorded_at
)
SELECT gen_random_uuid(), id, kind, occurred_at,
       occurred_at + CASE kind {_window_case()} END,
       CASE WHEN kind IN ({_quoted(WITH_AMOUNT)}) THEN 1000 + floor(r_days * 50000)::bigint END,
       '', 'bench:' || seq,
       CASE WHEN kind IN ({_quoted(WITH_AMOUNT)}) THEN 'bench-subject:' || seq ELSE '' END,
       '', {status},
       CASE WHEN settled_at <= %(now)s THEN settled_at END,
       occurred_at
FROM (
    SELECT *, {settled} AS settled_at
    FROM (
        SELECT id, seq, {kind_case} AS kind, occurred_at, r_status, r_settle, r_days
        FROM (
            SELECT p.id, p.risk, g.seq, {per_year} AS total, random() AS r_kind,
                   random() AS r_status, random() AS r_settle, random() AS r_days,
                   p.history_from + random() * (%(now)s - p.history_from) AS occurred_at
            FROM (
                SELECT id, risk, history_from,
                       floor(EXTRACT(EPOCH FROM %(now)s - history_from) / 86400 / 365.0
                             * ({per_year}) + random())::int AS events
                FROM bench_fit_people
            ) AS p
            CROSS JOIN LATERAL generate_series(1, p.events) AS g(seq)
        ) AS drawn
    ) AS kinds
) AS ev
ORDER BY occurred_at
"""  # noqa: S608 (constants only)


def _snapshots_sql(definition: dict[str, Any]) -> str:
    """The snapshots: the counts drawn per snapshot, the facts derived from them as
    ``Features`` does, the active scorecard's points and score (its bins as CASE
    expressions over columns named as the facts)."""
    f12 = f"(LEAST(account_age_days, {DAYS_12_MONTHS}) / 365.0)"
    f24 = f"(LEAST(account_age_days, {DAYS_24_MONTHS}) / 365.0)"
    f12_24 = f"({f24} - {f12})"
    late = f"(({RATES[EventKinds.BILL_PAID_LATE][1]} + {RATES[EventKinds.BILL_OVERDUE][1]}) * risk)"
    no_shows = f"({RATES[EventKinds.NO_SHOW][1]} * risk)"
    drawn = {
        "on_time_payments_12m": _geometric_sql(_rate_sql(EventKinds.BILL_PAID_ON_TIME, f12)),
        "late_payments_12m": _geometric_sql(f"({late} * {f12})"),
        "late_24m_more": _geometric_sql(f"({late} * {f12_24})"),
        "bookings_completed": _geometric_sql(_rate_sql(EventKinds.BOOKING_COMPLETED, f24)),
        "no_shows_12m": _geometric_sql(f"({no_shows} * {f12})"),
        "no_shows_24m_more": _geometric_sql(f"({no_shows} * {f12_24})"),
        "unpaid_claims": _geometric_sql(_rate_sql(EventKinds.CLAIM_UNPAID, f24)),
        "open_disputes": f"(random() < {OPEN_DISPUTE_SHARE})::int",
    }
    fields = {
        "identity_level": "identity_level",
        "account_age_days": "account_age_days",
        "on_time_payments_12m": "on_time_payments_12m",
        "late_payments_12m": "late_payments_12m",
        "late_payments_24m": "late_payments_12m + late_24m_more",
        "bookings_completed": "bookings_completed",
        "no_shows_12m": "no_shows_12m",
        "unpaid_claims": "unpaid_claims",
        "open_disputes": "open_disputes",
        "history_events": (
            "on_time_payments_12m + late_payments_12m + late_24m_more + bookings_completed "
            "+ no_shows_12m + no_shows_24m_more + unpaid_claims"
        ),
        "no_shows_24m": "no_shows_12m + no_shows_24m_more",
    }
    if set(fields) != set(Features._fields):
        sys.exit(f"the generator does not know the features {set(Features._fields) ^ set(fields)}")
    stays = "(bookings_completed + no_shows_24m + unpaid_claims)"
    derived = {
        "on_time_ratio_12m": (
            "CASE WHEN on_time_payments_12m + late_payments_12m > 0 THEN 100 * "
            "on_time_payments_12m / (on_time_payments_12m + late_payments_12m) END"
        ),
        "stays_completed_well_24m": (
            f"CASE WHEN {stays} >= {MIN_STAYS_FOR_SHARE} THEN 100 * bookings_completed / "
            f"{stays} END"
        ),
    }
    as_dict = ", ".join(f"'{name}', {name}" for name in (*Features._fields, *derived))
    newer = " - ".join(f"'{name}'" for name in ("no_shows_24m", "stays_completed_well_24m"))
    features = (
        f"CASE WHEN computed_at < %(now)s - make_interval(secs => {NEW_FEATURES_DAYS * 86400}) "
        f"THEN jsonb_build_object({as_dict}) - {newer} "
        f"ELSE jsonb_build_object({as_dict}) END"
    )
    factors = definition["factors"]
    points = ", ".join(f"'{factor['key']}', {_points_sql(factor)}" for factor in factors)
    total = " + ".join(_points_sql(factor) for factor in factors)
    bands = " ".join(f"WHEN score >= {lowest} THEN '{code}'" for lowest, code, _ in BANDS)
    return f"""
INSERT INTO scoring_scoresnapshot (
    account_id, scorecard_id, score, band, points, reasons, features, fingerprint, trigger,
    computed_at
)
SELECT account_id, %(scorecard)s, score, CASE {bands} ELSE '{BANDS[-1][1]}' END,
       points, '[]'::jsonb, {features}, 0, 'batch', computed_at
FROM (
    SELECT *, LEAST(GREATEST({definition["base_points"]} + {total}, 350), 950) AS score,
           jsonb_build_object({points}) AS points
    FROM (
        SELECT *, {", ".join(f"{sql} AS {name}" for name, sql in derived.items())}
        FROM (
            SELECT account_id, computed_at,
                   {", ".join(f"{sql} AS {name}" for name, sql in fields.items())}
            FROM (
                SELECT account_id, computed_at, identity_level, account_age_days,
                       {", ".join(f"{sql} AS {name}" for name, sql in drawn.items())}
                FROM (
                    SELECT p.id AS account_id, p.identity_level, p.risk, t.computed_at,
                           floor(EXTRACT(EPOCH FROM t.computed_at - p.date_joined) / 86400)::int
                               AS account_age_days
                    FROM bench_fit_people AS p
                    CROSS JOIN LATERAL generate_series(
                        0, floor(EXTRACT(EPOCH FROM %(now)s - p.history_from)
                                 / 86400 / {SNAPSHOT_SPACING_DAYS})::int
                    ) AS k(n)
                    CROSS JOIN LATERAL (
                        SELECT LEAST(p.history_from + make_interval(secs => 86400 * (
                            k.n * {SNAPSHOT_SPACING_DAYS} + random() * {SNAPSHOT_JITTER_DAYS}
                        )), %(now)s) AS computed_at
                    ) AS t
                ) AS moments
            ) AS counts
        ) AS features
    ) AS facts
) AS scored
ORDER BY computed_at
"""  # noqa: S608 (constants and a validated scorecard only)


def _generated(accounts: int) -> datetime | None:
    """The moment this generator's data for ``accounts`` was made, if the database holds it."""
    exists = execute("SELECT to_regclass('bench_fit_meta') IS NOT NULL")[0][0]
    if not exists:
        return None
    meta = execute("SELECT accounts, generator, generated_at FROM bench_fit_meta")
    if len(meta) != 1 or meta[0][:2] != (accounts, GENERATOR_VERSION):
        return None
    generated_at: datetime = meta[0][2]
    return generated_at


def _unlimited() -> None:
    """The bench's own statements run as long as they need. Memory (``work_mem``) stays
    the server's, for the hand SQL as for the training table: the same budget for both."""
    execute("SET statement_timeout = 0")


def _generate(accounts: int) -> datetime:
    started = time.perf_counter()
    now = datetime.now(tz=UTC)
    scorecard = selectors.scorecard_active()
    params: dict[str, Any] = {"now": now, "accounts": accounts, "scorecard": scorecard.pk}
    steps: list[tuple[str, float]] = []
    with transaction.atomic():
        execute("SET LOCAL work_mem = '256MB'")
        execute("SET LOCAL maintenance_work_mem = '512MB'")
        execute("SET LOCAL session_replication_role = replica")
        execute("SELECT setseed(%(seed)s)", {"seed": SEED})
        with keys_rebuilt(GENERATED_TABLES):
            for name, sql in (
                ("accounts", USERS_SQL),
                ("risk", PEOPLE_SQL),
                ("events", _events_sql()),
                ("snapshots", _snapshots_sql(scorecard.definition)),
            ):
                step = time.perf_counter()
                execute(sql, params)
                steps.append((name, time.perf_counter() - step))
            step = time.perf_counter()
        steps.append(("keys and indexes", time.perf_counter() - step))
        execute("DROP TABLE bench_fit_people")
        execute(
            "CREATE TABLE bench_fit_meta "
            "(accounts integer, generator integer, generated_at timestamptz)"
        )
        execute(
            "INSERT INTO bench_fit_meta VALUES (%(accounts)s, %(generator)s, %(now)s)",
            {"accounts": accounts, "generator": GENERATOR_VERSION, "now": now},
        )
    step = time.perf_counter()
    for table in GENERATED_TABLES:
        execute(f"VACUUM (ANALYZE) {table}")
    steps.append(("vacuum analyze", time.perf_counter() - step))
    events = execute("SELECT count(*) FROM scoring_creditevent")[0][0]
    snapshots = execute("SELECT count(*) FROM scoring_scoresnapshot")[0][0]
    print(
        f"generated {accounts} accounts, {snapshots} snapshots, {events} events in "
        f"{time.perf_counter() - started:.1f} s ("
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in steps)
        + " s)",
        flush=True,
    )
    return now


# --- The hand-written SQL --------------------------------------------------------------


def _feature_sql(name: str) -> str:
    value = f"(s.features ->> '{name}')::bigint"
    stand_in = FEATURE_STAND_INS.get(name)
    if stand_in is None:
        return value
    return f"COALESCE({value}, (s.features ->> '{stand_in}')::bigint)"


def hand_sql() -> str:
    """The training table's rows in one statement: each citizen's last mature snapshot
    per UTC quarter, its features, and whether a bad outcome followed it.

    The leanest found: DISTINCT ON sorts the mature snapshots once (in parallel, on a
    sequential scan: reading them in account order through ``snapshot_current`` would
    visit the heap at random); rows come unordered (the caller sorts the arrays, as the
    training table does). Reading only the ids first and joining back by id was twice
    as slow."""
    bad_kinds = _quoted(outcomes.BAD_EVENT_KINDS)
    quarter = "date_trunc('quarter', computed_at AT TIME ZONE 'UTC')"
    return f"""
SELECT s.account_id, s.id, s.scorecard_id, s.score,
       FLOOR(EXTRACT(EPOCH FROM s.computed_at))::bigint,
       {", ".join(_feature_sql(name) for name in Features._fields)},
       EXISTS (
           SELECT 1 FROM scoring_creditevent e
            WHERE e.account_id = s.account_id
              AND e.status <> '{EventStatus.REMOVED}'
              AND e.occurred_at > s.computed_at
              AND e.occurred_at <= s.computed_at
                  + make_interval(hours => {24 * outcomes.OUTCOME_WINDOW_DAYS})
              AND (e.kind IN ({bad_kinds})
                   OR (e.kind = '{outcomes.BAD_IF_UNSETTLED_KIND}'
                       AND (e.settled_at IS NULL OR e.settled_at > e.occurred_at
                            + make_interval(hours => {24 * outcomes.CLAIM_UNPAID_DAYS}))))
       )::int
  FROM (
      SELECT DISTINCT ON (account_id, {quarter})
             id, account_id, scorecard_id, score, computed_at, features
        FROM scoring_scoresnapshot
       WHERE computed_at <= %(mature)s
       ORDER BY account_id, {quarter} DESC, computed_at DESC, id DESC
  ) AS s
  JOIN wallet_user u ON u.id = s.account_id
 WHERE u.is_active AND NOT u.is_staff AND NOT u.is_superuser
"""  # noqa: S608 (constants only)


@dataclass(frozen=True)
class Rows:
    """What both reads must agree on."""

    count: int
    bad: int
    checksum: str

    @classmethod
    def of(cls, snapshot_ids: np.ndarray, bad: np.ndarray) -> Rows:
        order = np.argsort(snapshot_ids, kind="stable")
        digest = hashlib.sha256(snapshot_ids[order].astype(np.int64).tobytes())
        digest.update(bad[order].astype(np.int8).tobytes())
        return cls(len(snapshot_ids), int(bad.sum()), digest.hexdigest()[:12])


def _mature(as_of: datetime) -> datetime:
    return as_of - timedelta(days=outcomes.OUTCOME_MATURE_DAYS)


def _hand(sql: str, as_of: datetime) -> tuple[float, Rows]:
    """Run the hand SQL, fetch every row into an array ordered as the training table's,
    timed. Without JIT compilation: on this statement it costs more than it saves."""
    _unlimited()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, {"mature": _mature(as_of)})
        rows = cursor.fetchall()
    width = 5 + len(Features._fields) + 1
    matrix = np.array(rows, dtype=np.int64).reshape(-1, width)
    del rows
    matrix = matrix[np.lexsort((matrix[:, 4], matrix[:, 0]))]
    elapsed = time.perf_counter() - started
    return elapsed, Rows.of(matrix[:, 1], matrix[:, -1].astype(bool))


# --- The project's phases --------------------------------------------------------------


@dataclass
class Statements:
    """The SQL the training table ran: how many statements, their time, the slowest."""

    count: int = 0
    seconds: float = 0.0
    slowest: tuple[float, str, Any] = (0.0, "", None)


@contextlib.contextmanager
def _watched(statements: Statements) -> Iterator[None]:
    def timer(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            elapsed = time.perf_counter() - started
            statements.count += 1
            statements.seconds += elapsed
            if elapsed > statements.slowest[0]:
                statements.slowest = (elapsed, sql, params)

    with connection.execute_wrapper(timer):
        yield


def _build(as_of: datetime) -> tuple[float, training.TrainingTable, Statements]:
    statements = Statements()
    with _watched(statements):
        started = time.perf_counter()
        table = training.training_table(as_of=as_of)
        elapsed = time.perf_counter() - started
    return elapsed, table, statements


SCORABLE = tuple(key for key, fact in FACTS.items() if fact.scorable)


@dataclass
class Evaluation:
    train_rows: int
    test_rows: int
    model: fitting.FittedModel
    train: fitting.Metrics
    test: fitting.Metrics
    active: fitting.Metrics
    deciles: list[fitting.RateRow]
    bands: list[fitting.RateRow]
    psi: float


def _fit_phases(table: training.TrainingTable, seconds: dict[str, list[float]]) -> Evaluation:
    options = fitting.FitOptions()
    started = time.perf_counter()
    test = fitting.out_of_time_split(table.taken_at, test_share=options.test_share)
    frame: Any = table.facts_frame(SCORABLE)
    train_frame, test_frame = frame[~test], frame[test]
    seconds["split"].append(time.perf_counter() - started)

    started = time.perf_counter()
    model = fitting.fit(
        train_frame, table.bad[~test], [fitting.ColumnSpec.from_fact(k) for k in SCORABLE], options
    )
    seconds["fit"].append(time.perf_counter() - started)

    started = time.perf_counter()
    draft = model.score(test_frame)
    active = table.scores[test]
    bad = table.bad[test]
    evaluation = Evaluation(
        train_rows=int((~test).sum()),
        test_rows=int(test.sum()),
        model=model,
        train=fitting.metrics(model.score(train_frame), table.bad[~test]),
        test=fitting.metrics(draft, bad),
        active=fitting.metrics(active, bad),
        deciles=fitting.decile_rates(draft, bad),
        bands=fitting.band_rates(draft, bad),
        psi=fitting.psi(active, draft),
    )
    seconds["evaluate"].append(time.perf_counter() - started)
    return evaluation


def _print_evaluation(evaluation: Evaluation) -> None:
    def said(metrics: fitting.Metrics) -> str:
        return (
            f"{metrics.count} rows, bad {metrics.bad / max(metrics.count, 1):.1%}; "
            f"AUC {metrics.auc:.3f}, Gini {metrics.gini:.3f}, KS {metrics.ks:.3f}"
        )

    model = evaluation.model
    print(f"  draft: base {model.base_points}; train {said(evaluation.train)}")
    print(f"  draft on the test rows: {said(evaluation.test)}")
    print(f"  active on the test rows: {said(evaluation.active)}; PSI {evaluation.psi:.3f}")
    for column in model.columns:
        bins = " ".join(f"{b.start:g}:{b.points}" for b in column.bins if b.start is not None)
        missing = f" missing:{column.missing.points}" if column.missing is not None else ""
        print(f"  {column.name}: IV {column.iv:.3f}; from:points {bins}{missing}")
    for dropped in model.dropped:
        print(f"  dropped {dropped.name}: IV {dropped.iv:.3f}; {dropped.why}")
    deciles = " ".join(f"{row.bad_rate:.1%}" for row in evaluation.deciles)
    print(f"  bad rate by decile, lowest scores first: {deciles}")
    bands = ", ".join(f"{row.label} {row.count} {row.bad_rate:.1%}" for row in evaluation.bands)
    print(f"  bad rate by band: {bands}")


def _explain(sql: str, params: Any, title: str, *, jit: bool = True) -> None:
    _unlimited()
    with transaction.atomic(), connection.cursor() as cursor:
        if not jit:
            cursor.execute("SET LOCAL jit = off")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = cursor.fetchall()
    print(f"EXPLAIN ANALYZE of {title}:")
    print("\n".join(f"  {line}" for (line,) in plan))


# --- Main ------------------------------------------------------------------------------


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s ({min(values):.2f}..{max(values):.2f})"


def _line(accounts: int, rows: int, build: float, hand: float, agree: bool) -> str:
    return (
        f"build: {accounts} accounts, {rows} rows in {build:.2f} s; hand SQL {hand:.2f} s; "
        f"ratio {build / hand:.2f}; agree: {'true' if agree else 'false'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="N accounts")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved runs (medians)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the bench database and reuse its data when it has N accounts",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE the hand SQL and the training table's slowest statement",
    )
    args = parser.parse_args()
    if args.accounts < 1 or args.repeat < 1:
        parser.error("--accounts and --repeat must be at least 1")
    if connection.vendor != "postgresql":
        sys.exit(
            "bench.fitting measures PostgreSQL; run it with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame"
        )
    logging.getLogger("celery").setLevel(logging.WARNING)
    logging.getLogger("kombu").setLevel(logging.ERROR)

    settings.DATABASES["default"]["TEST"]["NAME"] = BENCH_DATABASE
    with contextlib.redirect_stderr(io.StringIO()):
        old_config = setup_databases(
            verbosity=0, interactive=False, keepdb=args.reuse, serialized_aliases=set()
        )
    seconds: dict[str, list[float]] = defaultdict(list)
    agreed: list[bool] = []
    rows = 0
    try:
        as_of = _generated(args.accounts) if args.reuse else None
        if as_of is not None:
            print(f"reusing {args.accounts} accounts in {BENCH_DATABASE}", flush=True)
        else:
            if args.reuse:  # another N or another generator: start from an empty database
                connection.close()
                teardown_databases(old_config, verbosity=0)
                old_config = setup_databases(
                    verbosity=0, interactive=False, keepdb=True, serialized_aliases=set()
                )
            _unlimited()
            as_of = _generate(args.accounts)
        snapshots, events = execute(
            "SELECT (SELECT count(*) FROM scoring_scoresnapshot), "
            "(SELECT count(*) FROM scoring_creditevent)"
        )[0]
        print(
            f"database: {connection.vendor} ({BENCH_DATABASE}), {args.accounts} accounts, "
            f"{snapshots} snapshots, {events} events; as of {as_of:%Y-%m-%d %H:%M} UTC, "
            f"mature before {_mature(as_of):%Y-%m-%d}",
            flush=True,
        )
        sql = hand_sql()
        statements = Statements()
        for number in range(1, args.repeat + 1):
            build, table, statements = _build(as_of)
            built = Rows.of(table.snapshot_ids, table.bad)
            hand, handwritten = _hand(sql, as_of)
            agree = built == handwritten
            if not agree:
                print(f"  disagree: training table {built}, hand SQL {handwritten}")
            seconds["build"].append(build)
            seconds["hand SQL"].append(hand)
            agreed.append(agree)
            rows = len(table)
            print(
                f"run {number}: {_line(args.accounts, rows, build, hand, agree)}; "
                f"bad {built.bad / max(rows, 1):.1%}; the build's "
                f"{statements.count} statements {statements.seconds:.2f} s "
                f"(slowest {statements.slowest[0]:.2f} s)",
                flush=True,
            )
            evaluation = _fit_phases(table, seconds)
            del table
            print(
                f"run {number}: split {seconds['split'][-1]:.2f} s "
                f"({evaluation.train_rows} train, {evaluation.test_rows} test rows); "
                f"fit {seconds['fit'][-1]:.2f} s; evaluate {seconds['evaluate'][-1]:.2f} s",
                flush=True,
            )
            if number == 1:
                _print_evaluation(evaluation)
        if args.explain:
            _explain(sql, {"mature": _mature(as_of)}, "the hand SQL", jit=False)
            _, slowest_sql, slowest_params = statements.slowest
            if slowest_sql:
                # Without JIT, as the training table runs its statements.
                _explain(
                    slowest_sql,
                    slowest_params,
                    "the training table's slowest statement",
                    jit=False,
                )
    finally:
        connection.close()
        if args.reuse:
            print(f"kept {BENCH_DATABASE} for --reuse (drop it with: dropdb {BENCH_DATABASE})")
        else:
            teardown_databases(old_config, verbosity=0)
    if not agreed:
        return
    for phase in ("hand SQL", "split", "fit", "evaluate", "build"):
        print(f"{phase}: {_spread(seconds[phase])}")
    ratios = [b / h for b, h in zip(seconds["build"], seconds["hand SQL"], strict=True)]
    print(f"ratio build/hand SQL per run: {' '.join(f'{r:.2f}' for r in ratios)}")
    build = statistics.median(seconds["build"])
    hand = statistics.median(seconds["hand SQL"])
    print(_line(args.accounts, rows, build, hand, all(agreed)))


if __name__ == "__main__":
    main()

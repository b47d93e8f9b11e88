"""Batch recompute: the nightly recompute of every score against one raw SQL statement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame \\
        python -m bench.recompute --accounts 100000 --repeat 3 [--workers 2]

Uses a database of its own (``bench_open_sesame``, or ``BENCH_DATABASE``; created and
migrated like the test database; never the one DATABASE_URL names). PostgreSQL only.

1. Generates N synthetic accounts with about ten credit events each, in SQL
   (INSERT ... SELECT over generate_series; no ORM), inserted in the order they happened
   as a live system records them, then VACUUM ANALYZE. ``--reuse`` keeps the database
   and its data for the next run with the same N.
2. Runs the project's full recompute, the nightly batch's code path:
   ``scoring.tasks.recompute_all``, its batch run and a ``recompute_chunk`` task per
   chunk. With ``--workers K`` as production runs it: sent through Redis to a Celery
   worker of K processes that runs the chunks K at a time. Without, Celery runs them eagerly in this
   process, one after the other (and the bench shows where the time goes). Timed (X).
3. Computes the same scores with one hand-written ``INSERT INTO bench_raw_scores ...
   SELECT`` (the features as ``scoring.selectors.features_for_accounts`` counts them,
   the active scorecard's bins as CASE expressions), as of the batch's moment. Timed (Z):
   the limit.
4. Checks that both agree on every account (the latest snapshot's score and band).

Each pair starts with no snapshots (the batch writes one per account: the cost after a
scorecard activation, the worst night). ``--repeat K`` runs K interleaved pairs. Prints
each pair with where the batch's time went and, on its last line, the medians::

    recompute: N accounts in X s (Y accounts/s); raw SQL Z s; ratio X/Z; agree: true
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import logging
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import django

if TYPE_CHECKING:
    from celery import Celery

# No broker: the batch's Celery tasks run eagerly, in this process (settings turn eager
# mode on when CELERY_BROKER_URL is empty; an empty value also wins over a .env file).
os.environ["CELERY_BROKER_URL"] = ""
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from bench.bulk import execute, keys_rebuilt  # noqa: E402
from scoring import facts, selectors, services, tasks  # noqa: E402
from scoring.facts import EventKinds  # noqa: E402
from scoring.scorecard import SCORE_MAX, SCORE_MIN  # noqa: E402

BENCH_DATABASE = os.environ.get("BENCH_DATABASE") or "bench_open_sesame"
# Bump when the generated data changes, so that --reuse regenerates it.
GENERATOR_VERSION = 1
SEED = 0.42
ACCOUNT_YEARS_DAYS = 1461  # accounts opened over the last ~4 years
EVENT_SPAN_DAYS = 913  # events over the last ~30 months
DISPUTED_SHARE = 0.01

# The mix of kinds: (kind, share of an average account's events, grows with the
# account's risk). An account's risk factor is 3 * u**2 (u uniform in 0..1, mean 1):
# most accounts are reliable, a few are often late. Bills paid on time take the rest.
KIND_MIX: tuple[tuple[str, float, bool], ...] = (
    (EventKinds.BILL_PAID_LATE, 0.07, True),
    (EventKinds.BILL_OVERDUE, 0.03, True),
    (EventKinds.NO_SHOW, 0.015, True),
    (EventKinds.CLAIM_UNPAID, 0.005, True),
    (EventKinds.BOOKING_COMPLETED, 0.22, False),
    (EventKinds.CLAIM_PAID, 0.02, False),
)
WITH_AMOUNT = (
    EventKinds.BILL_PAID_ON_TIME,
    EventKinds.BILL_PAID_LATE,
    EventKinds.BILL_OVERDUE,
    EventKinds.CLAIM_PAID,
    EventKinds.CLAIM_UNPAID,
)
LATE_KINDS = (EventKinds.BILL_PAID_LATE, EventKinds.BILL_OVERDUE)


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# --- Data ------------------------------------------------------------------------------

USERS_SQL = f"""
INSERT INTO wallet_user (
    password, last_login, is_superuser, username, first_name, last_name, email, is_staff,
    is_active, date_joined, public_id, display_name, identity_level, email_verified,
    phone_number, closed_at
)
SELECT '!', NULL, false, 'bench-' || g, '', '', '', false,
       true, %(now)s - make_interval(secs => random() * {ACCOUNT_YEARS_DAYS * 86400}),
       gen_random_uuid(), '', (ARRAY[0, 0, 1, 1, 1, 1, 2, 2, 2, 2])[1 + floor(random() * 10)::int],
       false, '', NULL
FROM generate_series(1, %(accounts)s) AS g
"""  # noqa: S608 (constants only)


def _window_case() -> str:
    """The window of each kind (``scoring.facts.EVENT_WINDOW_DAYS``) as CASE branches.

    Hours, not days: an interval of days would depend on the session's time zone."""
    return " ".join(
        f"WHEN '{kind}' THEN make_interval(hours => {24 * days})"
        for kind, days in facts.EVENT_WINDOW_DAYS.items()
    )


def _events_sql() -> str:
    risky = plain = 0.0
    whens = []
    for kind, share, with_risk in KIND_MIX:
        if with_risk:
            risky += share
        else:
            plain += share
        whens.append(f"WHEN r_kind < {risky:.4f} * risk + {plain:.4f} THEN '{kind}'")
    kind_case = f"CASE {' '.join(whens)} ELSE '{EventKinds.BILL_PAID_ON_TIME}' END"
    window_case = _window_case()
    # Subqueries with random() in their select list are evaluated once per row (never
    # flattened), so each event draws its own numbers.
    return f"""
INSERT INTO scoring_creditevent (
    id, account_id, kind, occurred_at, counts_until, amount, currency, source, subject,
    description, status, settled_at, recorded_at
)
SELECT gen_random_uuid(), account_id, kind, occurred_at,
       occurred_at + CASE kind {window_case} END,
       CASE WHEN kind IN ({_quoted(WITH_AMOUNT)}) THEN 1000 + floor(r_amount * 50000)::bigint END,
       '', 'bench:' || seq,
       CASE WHEN kind IN ({_quoted(WITH_AMOUNT)}) THEN 'bench-subject:' || seq ELSE '' END,
       '', CASE WHEN r_status < {DISPUTED_SHARE} THEN 'disputed' ELSE 'active' END,
       NULL, occurred_at
FROM (
    SELECT account_id, seq, {kind_case} AS kind, occurred_at, r_amount, r_status
    FROM (
        SELECT a.id AS account_id, e.seq, a.risk, random() AS r_kind, random() AS r_amount,
               random() AS r_status,
               %(now)s - make_interval(secs => random() * LEAST(
                   {EVENT_SPAN_DAYS * 86400}, EXTRACT(EPOCH FROM %(now)s - a.date_joined)
               )) AS occurred_at
        FROM (
            SELECT id, date_joined, 3 * random() ^ 2 AS risk,
                   CASE WHEN random() < 0.03 THEN 0 ELSE 1 + floor(random() * 19)::int END
                       AS events
            FROM wallet_user
        ) AS a
        CROSS JOIN LATERAL generate_series(1, a.events) AS e(seq)
    ) AS drawn
) AS ev
ORDER BY occurred_at
"""  # noqa: S608 (constants only)


def _generated(accounts: int) -> bool:
    """Whether the database already holds this generator's data for ``accounts``."""
    exists = execute("SELECT to_regclass('bench_meta') IS NOT NULL")[0][0]
    if not exists:
        return False
    meta = execute("SELECT accounts, generator FROM bench_meta")
    users = execute("SELECT count(*) FROM wallet_user")[0][0]
    return meta == [(accounts, GENERATOR_VERSION)] and users == accounts


GENERATED_TABLES = ("wallet_user", "scoring_creditevent")


def _generate(accounts: int) -> None:
    started = time.perf_counter()
    now = datetime.now(tz=UTC)
    with transaction.atomic():
        execute("SET LOCAL work_mem = '256MB'")
        execute("SET LOCAL maintenance_work_mem = '512MB'")
        execute("SELECT setseed(%(seed)s)", {"seed": SEED})
        with keys_rebuilt(GENERATED_TABLES):
            execute(USERS_SQL, {"now": now, "accounts": accounts})
            execute(_events_sql(), {"now": now})
            inserted = time.perf_counter() - started
        execute("CREATE TABLE bench_meta (accounts integer, generator integer, events bigint)")
        execute(
            "INSERT INTO bench_meta SELECT %(accounts)s, %(generator)s, count(*) "
            "FROM scoring_creditevent",
            {"accounts": accounts, "generator": GENERATOR_VERSION},
        )
    generated = time.perf_counter() - started
    execute("VACUUM (ANALYZE) wallet_user")
    execute("VACUUM (ANALYZE) scoring_creditevent")
    events = execute("SELECT events FROM bench_meta")[0][0]
    print(
        f"generated {accounts} accounts and {events} events in {generated:.1f} s "
        f"(insert {inserted:.1f} s, keys and indexes {generated - inserted:.1f} s; "
        f"then vacuum analyze {time.perf_counter() - started - generated:.1f} s)",
        flush=True,
    )
    # The windows must be exactly the ones of scoring.facts, to the microsecond.
    check = "SELECT count(*) FROM scoring_creditevent WHERE counts_until - occurred_at <> "
    wrong = execute(f"{check} CASE kind {_window_case()} END")[0][0]
    if wrong:
        sys.exit(f"generator bug: {wrong} events have a window other than their kind's")


def _data_summary() -> str:
    rows = execute(
        "SELECT kind, count(*), round(100.0 * count(*) / sum(count(*)) OVER (), 1) "
        "FROM scoring_creditevent GROUP BY kind ORDER BY count(*) DESC"
    )
    return ", ".join(f"{kind} {share}%" for kind, _, share in rows)


# --- The raw SQL -----------------------------------------------------------------------

# Each fact the scorecard may score, from the per-account aggregate ``f`` (NULL when the
# account has no counting event), the account ``u`` and the parameters ``p``.
FACT_SQL: dict[str, str] = {
    "identity_level": "u.identity_level",
    "account_age_days": "GREATEST(floor(EXTRACT(EPOCH FROM p.at - u.date_joined) / 86400), 0)",
    "on_time_ratio_12m": (
        "CASE WHEN f.on_time + f.late_12m > 0 THEN 100 * f.on_time / (f.on_time + f.late_12m) END"
    ),
    "late_payments_24m": "COALESCE(f.late_24m, 0)",
    "bookings_completed": "COALESCE(f.bookings, 0)",
    "no_shows_12m": "COALESCE(f.no_shows, 0)",
    "unpaid_claims": "COALESCE(f.unpaid, 0)",
}


def _points_sql(factor: dict[str, Any]) -> str:
    """A factor's points as a CASE: the last bin whose ``from`` is at most the value."""
    column = factor["fact"]
    bins = factor["bins"]
    whens = [f"WHEN {column} IS NULL THEN {factor.get('missing_points') or 0}"]
    whens += [f"WHEN {column} >= {b['from']} THEN {b['points']}" for b in reversed(bins[1:])]
    return f"CASE {' '.join(whens)} ELSE {bins[0]['points']} END"


def raw_sql(definition: dict[str, Any]) -> str:
    """One statement: features per account, points, score and band, into the table."""
    used = sorted({factor["fact"] for factor in definition["factors"]})
    unknown = [fact for fact in used if fact not in FACT_SQL]
    if unknown:
        sys.exit(f"the raw SQL does not know the facts {unknown}: add them to FACT_SQL")
    feature_columns = ",\n           ".join(f"{FACT_SQL[fact]} AS {fact}" for fact in used)
    points = "\n             + ".join(_points_sql(factor) for factor in definition["factors"])
    bands = " ".join(f"WHEN score >= {lowest} THEN '{code}'" for lowest, code, _ in facts.BANDS)
    counting = (
        "e.status = 'active' AND e.occurred_at <= p.at AND e.counts_until > p.at "
        "AND (e.settled_at IS NULL OR e.settled_at > p.at)"
    )
    late = f"e.kind IN ({_quoted(LATE_KINDS)})"
    return f"""
WITH p AS MATERIALIZED (
    SELECT %(at)s::timestamptz AS at, %(year_ago)s::timestamptz AS year_ago
)
INSERT INTO bench_raw_scores (account_id, score, band)
SELECT id, score, CASE {bands} ELSE '{facts.BANDS[-1][1]}' END
FROM (
    SELECT id, LEAST(GREATEST({definition["base_points"]}
             + {points}, {SCORE_MIN}), {SCORE_MAX}) AS score
    FROM (
        SELECT u.id,
           {feature_columns}
        FROM wallet_user AS u
        CROSS JOIN p
        LEFT JOIN (
            SELECT e.account_id,
                   COUNT(*) FILTER (WHERE e.kind = '{EventKinds.BILL_PAID_ON_TIME}') AS on_time,
                   COUNT(*) FILTER (WHERE {late} AND e.occurred_at > p.year_ago) AS late_12m,
                   COUNT(*) FILTER (WHERE {late}) AS late_24m,
                   COUNT(*) FILTER (WHERE e.kind = '{EventKinds.BOOKING_COMPLETED}') AS bookings,
                   COUNT(*) FILTER (WHERE e.kind = '{EventKinds.NO_SHOW}') AS no_shows,
                   COUNT(*) FILTER (WHERE e.kind = '{EventKinds.CLAIM_UNPAID}') AS unpaid
            FROM scoring_creditevent AS e
            CROSS JOIN p
            WHERE {counting}
            GROUP BY e.account_id
        ) AS f ON f.account_id = u.id
        WHERE u.is_active
    ) AS features
) AS scores
"""  # noqa: S608 (every interpolated value comes from code or a validated scorecard)


# --- Where the batch's time goes -------------------------------------------------------

PHASES = ("features", "snapshots_latest", "scoring", "copy", "commit+rest", "celery+rest")


@dataclass
class Profile:
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    sql: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    chunks: int = 0
    phase: str = "celery+rest"
    first_features_sql: tuple[str, Any] | None = None

    def line(self, total: float) -> str:
        seconds = dict(self.seconds)
        seconds["celery+rest"] = total - sum(seconds.values())
        parts = []
        for phase in PHASES:
            text = f"{phase} {seconds.get(phase, 0.0):.2f}"
            if phase == "features":
                sql = self.sql.get(phase, 0.0)
                text += f" (SQL {sql:.2f} + Python {seconds.get(phase, 0.0) - sql:.2f})"
            parts.append(text)
        return f"{self.chunks} chunks: " + ", ".join(parts) + " s"


@contextmanager
def _profiled(profile: Profile) -> Iterator[None]:
    """Time the batch's steps by wrapping the module functions it calls (no change to
    the code path: services and tasks look them up on their modules at each call)."""

    originals: list[tuple[Any, str, Callable[..., Any]]] = []

    def timed(module: Any, name: str, phase: str) -> None:
        original = getattr(module, name, None)
        if original is None:  # renamed by a change of scoring: its time goes to the rest
            print(f"note: {module.__name__}.{name} is gone; not timed separately")
            return

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            outer, profile.phase = profile.phase, phase
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                profile.seconds[phase] += time.perf_counter() - started
                profile.phase = outer

        setattr(module, name, wrapper)
        originals.append((module, name, original))

    def chunk(*args: Any, **kwargs: Any) -> Any:
        profile.chunks += 1
        started = time.perf_counter()
        before = sum(profile.seconds.values())
        try:
            return recompute(*args, **kwargs)
        finally:
            inner = sum(profile.seconds.values()) - before
            profile.seconds["commit+rest"] += time.perf_counter() - started - inner

    def sql_timer(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        if profile.phase == "features" and profile.first_features_sql is None:
            profile.first_features_sql = (sql, params)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            profile.sql[profile.phase] += time.perf_counter() - started

    timed(selectors, "features_for_accounts", "features")
    timed(selectors, "snapshots_latest", "snapshots_latest")
    timed(services, "_snapshot_rows", "scoring")
    timed(services, "_snapshots_insert", "copy")
    # A chunk: its claim, its recompute, marking it done and settling the run, committed.
    recompute = services.batch_chunk_run
    services.batch_chunk_run = chunk
    try:
        with connection.execute_wrapper(sql_timer):
            yield
    finally:
        services.batch_chunk_run = recompute
        for module, name, original in originals:
            setattr(module, name, original)


# --- One pair --------------------------------------------------------------------------


@dataclass
class Pair:
    recompute: float
    raw: float
    mismatches: int
    profile: Profile
    at: datetime
    # --again: a second batch right after, with every snapshot current (a quiet night).
    again: float | None = None
    again_written: int = 0

    @property
    def agree(self) -> bool:
        return self.mismatches == 0


def _clear() -> None:
    # CASCADE: the access log (empty here) refers to snapshots. TRUNCATE is not a row
    # UPDATE/DELETE, so the append-only trigger does not apply.
    execute("TRUNCATE scoring_scoresnapshot, bench_raw_scores CASCADE")


def _recompute_all() -> None:
    if _workers.process is not None:
        _workers.run_batch()
        return
    result = tasks.recompute_all.delay()
    result.get()


def _broker_redis(app: Celery) -> Any:
    """The Redis client behind the app's broker connection: kombu's Redis channel has one
    (``client``), which the generic channel type does not declare."""
    channel: Any = app.connection_for_write().default_channel
    return channel.client


class _Workers:
    """``--workers K``: the batch as production runs it, on a Celery worker (prefork, K
    processes) fed through Redis. ``scoring.recompute_all`` is sent through the broker;
    the worker starts a batch run and sends its chunk tasks, which it runs K at a time. Done
    when every account has its snapshot (the bench starts each batch with none)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.accounts = 0
        self.broker = ""

    def start(self, *, count: int, accounts: int, broker: str, chunk_size: int) -> None:
        from celery import Celery

        database = settings.DATABASES["default"]
        url = (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{BENCH_DATABASE}"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": broker,
            "SCORING_BATCH_CHUNK_SIZE": str(chunk_size),
        }
        command = [sys.executable, "-m", "celery", "-A", "config.celery_app", "worker"]
        command += ["-Q", "scoring-batch", "-c", str(count), "--pool", "prefork", "-l", "WARNING"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        self.accounts, self.broker = accounts, broker
        self.sender = Celery("bench", broker=broker)
        _broker_redis(self.sender).flushdb()
        self.process = subprocess.Popen(command, env=env)
        deadline = time.monotonic() + 60
        while not self.sender.control.ping(timeout=1.0):
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit("the Celery worker did not start")
        print(f"worker: {count} prefork processes on {broker}", flush=True)

    def run_batch(self) -> None:
        """Send the batch and wait for its last snapshot. While chunk tasks wait in the
        queue only the queue's length is polled (a Redis call); counting snapshots, which
        costs the database a scan, starts once the queue is empty."""
        redis = _broker_redis(self.sender)
        self.sender.send_task("scoring.recompute_all", queue="scoring-batch")
        started = time.monotonic()
        queued_seen = False
        while True:
            if self.process is None or self.process.poll() is not None:
                sys.exit("the Celery worker stopped")
            if time.monotonic() - started > 3600:
                sys.exit("the batch did not finish within an hour")
            waiting = redis.llen("scoring-batch")
            queued_seen = queued_seen or waiting > 0
            if waiting == 0 and (queued_seen or time.monotonic() - started > 2):
                written = execute("SELECT count(*) FROM scoring_scoresnapshot")[0][0]
                if written >= self.accounts:
                    return
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.process = None


_workers = _Workers()


def _batch_moment() -> datetime:
    rows = execute("SELECT min(computed_at), max(computed_at) FROM scoring_scoresnapshot")
    low, high = rows[0]
    if low != high:
        sys.exit(f"the batch wrote snapshots at several moments ({low} .. {high})")
    if low is None:
        sys.exit("the batch wrote no snapshot")
    return low


def _compare(accounts: int, show: int = 5) -> int:
    """Mismatches between the latest snapshots and the raw scores (a missing row in
    either, a different score or band), printing the first few."""
    latest = """
        SELECT DISTINCT ON (account_id) account_id, score, band, features
        FROM scoring_scoresnapshot ORDER BY account_id, computed_at DESC, id DESC
    """
    mismatch = """
        s.account_id IS NULL OR r.account_id IS NULL OR s.score <> r.score OR s.band <> r.band
    """
    counts = execute(
        f"SELECT count(s.account_id), count(r.account_id), count(*) FILTER (WHERE {mismatch}) "  # noqa: S608
        f"FROM ({latest}) AS s FULL JOIN bench_raw_scores AS r USING (account_id)"
    )
    batch_rows, raw_rows, mismatches = counts[0]
    problems = []
    if batch_rows != accounts:
        problems.append(f"the batch scored {batch_rows} accounts, not {accounts}")
    if raw_rows != accounts:
        problems.append(f"the raw SQL scored {raw_rows} accounts, not {accounts}")
    if mismatches:
        rows = execute(
            f"SELECT coalesce(s.account_id, r.account_id), s.score, s.band, r.score, r.band, "  # noqa: S608
            f"s.features FROM ({latest}) AS s FULL JOIN bench_raw_scores AS r "
            f"USING (account_id) WHERE {mismatch} ORDER BY 1 LIMIT {show}"
        )
        problems.append(f"{mismatches} accounts disagree, the first {len(rows)}:")
        problems += [
            f"  account {account}: batch {score} {band}, raw SQL {raw_score} {raw_band}; "
            f"features {features}"
            for account, score, band, raw_score, raw_band, features in rows
        ]
    for problem in problems:
        print(problem)
    return mismatches + (batch_rows != accounts) + (raw_rows != accounts)


def _pair(accounts: int, sql: str, *, again: bool) -> Pair:
    _clear()
    profile = Profile()
    with _profiled(profile):
        started = time.perf_counter()
        _recompute_all()
        recompute = time.perf_counter() - started
    at = _batch_moment()
    params = {"at": at, "year_ago": at - timedelta(days=facts.DAYS_12_MONTHS)}
    started = time.perf_counter()
    execute(sql, params)
    raw = time.perf_counter() - started
    pair = Pair(recompute, raw, _compare(accounts), profile, at)
    if again:
        started = time.perf_counter()
        _recompute_all()
        pair.again = time.perf_counter() - started
        pair.again_written = execute("SELECT count(*) FROM scoring_scoresnapshot")[0][0]
        pair.again_written -= accounts
    return pair


def _cprofile(top: int) -> None:
    """One extra, untimed batch under cProfile: the Python hot spots."""
    _clear()
    profiler = cProfile.Profile()
    profiler.enable()
    _recompute_all()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print("cProfile of one batch (sorted by own time):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def _explain(sql: str, pair: Pair) -> None:
    at, profile = pair.at, pair.profile
    params = {"at": at, "year_ago": at - timedelta(days=facts.DAYS_12_MONTHS)}
    with transaction.atomic():
        execute("TRUNCATE bench_raw_scores")
        plan = execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        transaction.set_rollback(True)
    print("EXPLAIN ANALYZE of the raw SQL:")
    print("\n".join(f"  {line}" for (line,) in plan))
    if profile.first_features_sql is not None:
        features_sql, features_params = profile.first_features_sql
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + features_sql, features_params)
            plan = cursor.fetchall()
        print("EXPLAIN ANALYZE of the batch's features query (first chunk):")
        print("\n".join(f"  {line}" for (line,) in plan))


# --- Main ------------------------------------------------------------------------------


def _pg_setting(parser: argparse.ArgumentParser, text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.replace("_", "").replace(".", "").isalnum():
        parser.error(f"--set takes NAME=VALUE, not {text!r}")
    return name, value


def _line(accounts: int, recompute: float, raw: float, agree: bool) -> str:
    return (
        f"recompute: {accounts} accounts in {recompute:.2f} s "
        f"({accounts / recompute:.0f} accounts/s); raw SQL {raw:.2f} s; "
        f"ratio {recompute / raw:.2f}; agree: {'true' if agree else 'false'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="N accounts")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved pairs (medians)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the bench database and reuse its data when it has N accounts",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=settings.SCORING_BATCH_CHUNK_SIZE,
        help="SCORING_BATCH_CHUNK_SIZE for this run (default: the setting)",
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE both queries")
    parser.add_argument(
        "--again",
        action="store_true",
        help="after each pair, time a second batch that finds every snapshot current",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the batch and the raw SQL alike (e.g. jit=off)",
    )
    parser.add_argument(
        "--cprofile", type=int, default=0, metavar="TOP", help="one extra batch under cProfile"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="K",
        help="run the batch on a real Celery worker with K processes (production's path)",
    )
    parser.add_argument(
        "--broker",
        default="redis://127.0.0.1:6379/14",
        help="the broker for --workers (its database is emptied first)",
    )
    args = parser.parse_args()
    if args.workers and (args.again or args.cprofile):
        parser.error("--again and --cprofile measure the in-process batch, not --workers")
    if args.accounts < 1 or args.repeat < 1 or args.chunk_size < 1:
        parser.error("--accounts, --repeat and --chunk-size must be at least 1")

    if connection.vendor != "postgresql":
        sys.exit(
            "bench.recompute measures PostgreSQL (COPY, FILTER, generate_series); the "
            f"configured database is {connection.vendor}. Run it with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame"
        )
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        sys.exit("bench.recompute runs the batch in-process: Celery must be eager")
    settings.SCORING_BATCH_CHUNK_SIZE = args.chunk_size
    # A log line per chunk task (and kombu's note that no broker host is set) is noise here.
    logging.getLogger("celery").setLevel(logging.WARNING)
    logging.getLogger("kombu").setLevel(logging.ERROR)
    pg_settings = [_pg_setting(parser, text) for text in args.set]

    # A database of its own, so a benchmark never touches the test suite's.
    settings.DATABASES["default"]["TEST"]["NAME"] = BENCH_DATABASE
    # Django notes on stderr that it replaces an existing database: expected here.
    with contextlib.redirect_stderr(io.StringIO()):
        old_config = setup_databases(
            verbosity=0, interactive=False, keepdb=args.reuse, serialized_aliases=set()
        )
    try:
        if args.reuse and _generated(args.accounts):
            print(f"reusing {args.accounts} accounts in {BENCH_DATABASE}", flush=True)
        else:
            if args.reuse:  # another N or another generator: start from an empty database
                connection.close()
                teardown_databases(old_config, verbosity=0)
                old_config = setup_databases(
                    verbosity=0, interactive=False, keepdb=True, serialized_aliases=set()
                )
            _generate(args.accounts)
        execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_scores "
            "(account_id bigint, score integer, band varchar(16))"
        )
        if pg_settings:
            # On every connection of this process (each SET only lasts a session).
            def apply(sender: Any, **kwargs: Any) -> None:
                with kwargs["connection"].cursor() as cursor:
                    for name, value in pg_settings:
                        cursor.execute("SELECT set_config(%s, %s, false)", (name, value))

            connection_created.connect(apply, weak=False)
            connection.close()
            print("settings: " + ", ".join(f"{name}={value}" for name, value in pg_settings))
        scorecard = selectors.scorecard_active()
        sql = raw_sql(scorecard.definition)
        events = execute("SELECT events FROM bench_meta")[0][0]
        print(
            f"database: {connection.vendor} ({BENCH_DATABASE}), {args.accounts} accounts, "
            f"{events} events; chunk size {args.chunk_size}; scorecard v{scorecard.version}",
            flush=True,
        )
        print(f"events: {_data_summary()}", flush=True)
        if args.cprofile:
            _cprofile(args.cprofile)
        if args.workers:
            _workers.start(
                count=args.workers,
                accounts=args.accounts,
                broker=args.broker,
                chunk_size=args.chunk_size,
            )
        pairs = []
        for number in range(1, args.repeat + 1):
            pair = _pair(args.accounts, sql, again=args.again)
            pairs.append(pair)
            print(f"pair {number}: {_line(args.accounts, pair.recompute, pair.raw, pair.agree)}")
            if not args.workers:
                print(f"  batch: {pair.profile.line(pair.recompute)}", flush=True)
            if pair.again is not None:
                print(
                    f"  again, every snapshot current: {pair.again:.2f} s, "
                    f"{pair.again_written} new snapshots",
                    flush=True,
                )
        bands = execute(
            "SELECT band, round(100.0 * count(*) / sum(count(*)) OVER (), 1) "
            "FROM bench_raw_scores GROUP BY band ORDER BY min(score)"
        )
        print("bands: " + ", ".join(f"{band} {share}%" for band, share in bands))
        if args.explain:
            _explain(sql, pairs[-1])
    finally:
        _workers.stop()
        connection.close()
        if args.reuse:
            print(f"kept {BENCH_DATABASE} for --reuse (drop it with: dropdb {BENCH_DATABASE})")
        else:
            teardown_databases(old_config, verbosity=0)

    print(
        _line(
            args.accounts,
            statistics.median(pair.recompute for pair in pairs),
            statistics.median(pair.raw for pair in pairs),
            all(pair.agree for pair in pairs),
        )
    )


if __name__ == "__main__":
    main()

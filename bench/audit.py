"""The nightly fairness audit of what is live, against one hand-written SQL aggregation
of the same rates.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame \\
        python -m bench.audit --accounts 100000 --repeat 3 [--reuse]

Uses a database of its own (``bench_audit``, or ``BENCH_DATABASE``; created and migrated
like the test database; never the one DATABASE_URL names). PostgreSQL only.

1. Generates N citizens with credit events as ``bench.recompute`` does (INSERT ...
   SELECT over generate_series), a wallet each with top-ups and payments over the last
   eight months (the 90-day average balances differ), a third of them with volunteered
   monitoring attributes, a hotel with the default perk and a rental whose perk waives
   at most 500.00; then the project's nightly batch writes every current snapshot.
   ``--reuse`` keeps the database and its data for the next run with the same N.
2. Runs the live audit as the nightly task does (``analysis_request`` of an audit with
   nothing but ``live``, run eagerly here): the population read (the current snapshots'
   scores and features, the 90-day average balances, the outcomes, the volunteered
   attributes), every perk decided, the figures by fairlearn, the report stored. Timed (X).
3. Computes the same rates with one hand-written statement (per group of every
   dimension: the count, the share rated good or better, and for each perk the share
   with a waiver at all and in full, its rules written as SQL), from the same latest
   snapshots. Timed (Y): the limit.
4. Checks that both agree on every group's count and rates and every ratio.

``--repeat K`` runs K interleaved pairs. Prints the audit's figures (ratios per
dimension, factors by wealth), each pair, the spread and, on its last line, the medians::

    audit: N accounts in X s; SQL Y s; ratio R; agree: true|false
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import django

os.environ["CELERY_BROKER_URL"] = ""
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from bench.bulk import execute, keys_rebuilt  # noqa: E402
from bench.recompute import USERS_SQL, _events_sql  # noqa: E402
from common.approvals import ratio_floor  # noqa: E402
from governance.analysis import analysis_request  # noqa: E402
from governance.models import AgeBand, AnalysisKind, AnalysisRun, AnalysisStatus, Sex  # noqa: E402
from governance.population import (  # noqa: E402
    ACCOUNT_AGE_BANDS,
    DIMENSION_KEYS,
    WEALTH_WINDOW_DAYS,
)
from merchants import services as merchant_services  # noqa: E402
from merchants.perks import services as perks_services  # noqa: E402
from merchants.perks.models import PerkKind  # noqa: E402
from merchants.perks.rules import BAND_FACT, DEFAULT_RULES, OPERATORS, Rules  # noqa: E402
from merchants.perks.versions import PerkTerms, perk_terms_active  # noqa: E402
from scoring import selectors, tasks  # noqa: E402
from scoring.facts import BAND_CODES  # noqa: E402

BENCH_DATABASE = os.environ.get("BENCH_DATABASE") or "bench_audit"
GENERATOR_VERSION = 1
SEED = 0.2026
VOLUNTEERED_SHARE = 0.33
TOP_UP_AMOUNTS = (2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000)
GENERATED_TABLES = (
    "wallet_user",
    "scoring_creditevent",
    "wallet_ledgeraccount",
    "wallet_transfer",
    "wallet_entry",
    "governance_monitoringattributes",
)

# --- Data ------------------------------------------------------------------------------

WALLETS_SQL = """
INSERT INTO wallet_ledgeraccount (code, kind, name, user_id, currency, balance, held, created_at)
SELECT 'wallet:' || public_id, 'wallet', 'Wallet of ' || username, id, %(currency)s, 0, 0,
       date_joined
FROM wallet_user ORDER BY id
"""

# Each citizen: a wealth factor (log-uniform over two orders of magnitude), 0 to 8
# top-ups of an amount that grows with it over the last 240 days (not before the account
# opened), and after each a payment of part of it to a merchant, a few days later.
MOVES_SQL = """
CREATE UNLOGGED TABLE bench_moves AS
SELECT gen_random_uuid() AS top_up_id, gen_random_uuid() AS payment_id, wallet_id,
       amount, top_up_at,
       floor(amount * spend)::bigint AS spent,
       LEAST(top_up_at + make_interval(secs => 86400 * (1 + random() * 20)), %(now)s)
           AS paid_at
FROM (
    SELECT a.id AS wallet_id,
           (%(amounts)s::bigint[])[LEAST(1 + floor(w.rich * 3 + random() * 4)::int, 7)]
               AS amount,
           %(now)s - make_interval(secs => random() * LEAST(
               240 * 86400, EXTRACT(EPOCH FROM %(now)s - u.date_joined))) AS top_up_at,
           random() * 0.9 AS spend
    FROM wallet_ledgeraccount a
    JOIN wallet_user u ON u.id = a.user_id
    CROSS JOIN LATERAL (
        SELECT random() * 1.5 AS rich, floor(random() * 9)::int + 0 * a.id AS moves
    ) AS w
    CROSS JOIN LATERAL generate_series(1, w.moves) AS g(n)
    WHERE a.kind = 'wallet'
) AS planned
"""

TRANSFERS_SQL = """
INSERT INTO wallet_transfer (id, kind, currency, description, reference, created_at)
SELECT id, kind, %(currency)s, '', '', created_at FROM (
    SELECT top_up_id AS id, 'adjustment' AS kind, top_up_at AS created_at FROM bench_moves
    UNION ALL
    SELECT payment_id, 'payment', paid_at FROM bench_moves WHERE spent > 0
) AS t ORDER BY created_at
"""

ENTRIES_SQL = """
INSERT INTO wallet_entry (transfer_id, account_id, amount, created_at)
SELECT transfer_id, account_id, amount, created_at FROM (
    SELECT top_up_id AS transfer_id, wallet_id AS account_id, amount, top_up_at AS created_at
      FROM bench_moves
    UNION ALL
    SELECT top_up_id, %(funding)s, -amount, top_up_at FROM bench_moves
    UNION ALL
    SELECT payment_id, wallet_id, -spent, paid_at FROM bench_moves WHERE spent > 0
    UNION ALL
    SELECT payment_id, %(settlement)s, spent, paid_at FROM bench_moves WHERE spent > 0
) AS e ORDER BY created_at
"""

BALANCES_SQL = """
UPDATE wallet_ledgeraccount a SET balance = s.total
  FROM (SELECT account_id, sum(amount) AS total FROM wallet_entry GROUP BY account_id) s
 WHERE a.id = s.account_id
"""

MONITORING_SQL = """
INSERT INTO governance_monitoringattributes (user_id, age_band, sex, volunteered_at, updated_at)
SELECT id, age_band, CASE WHEN age_band = '' AND sex = '' THEN (%(sexes)s::text[])[1] ELSE sex END,
       %(now)s, %(now)s
FROM (
    SELECT id,
           CASE WHEN random() < 0.9
                THEN (%(ages)s::text[])[1 + floor(random() * %(age_count)s)::int]
                ELSE '' END AS age_band,
           CASE WHEN random() < 0.9
                THEN (%(sexes)s::text[])[1 + floor(random() * %(sex_count)s)::int]
                ELSE '' END AS sex
    FROM wallet_user WHERE random() < %(share)s
) AS v
"""


def _generated(accounts: int) -> bool:
    exists = execute("SELECT to_regclass('bench_audit_meta') IS NOT NULL")[0][0]
    if not exists:
        return False
    meta = execute("SELECT accounts, generator FROM bench_audit_meta")
    return meta == [(accounts, GENERATOR_VERSION)]


def _unlimited() -> None:
    """The bench's own statements (generating millions of rows, the aggregation) run as
    long as they need, and the aggregation has the memory to sort and hash a million
    rows in memory (as the generator does); the audit keeps its limits, as in production."""
    execute("SET statement_timeout = 0")
    execute("SET work_mem = '256MB'")


def _generate(accounts: int) -> None:
    _unlimited()
    started = time.perf_counter()
    now = datetime.now(tz=UTC)
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    rental = merchant_services.merchant_create(name="Bay Rentals", category="rental")
    perks_services.perk_create(
        merchant=rental, kind=PerkKind.DEPOSIT_WAIVER, max_amount=50_000, rules=DEFAULT_RULES
    )
    funding = execute("SELECT id FROM wallet_ledgeraccount WHERE code = 'system:funding'")[0][0]
    params: dict[str, Any] = {
        "now": now,
        "accounts": accounts,
        "currency": settings.WALLET_CURRENCY,
        "amounts": list(TOP_UP_AMOUNTS),
        "funding": funding,
        "settlement": hotel.settlement_id,
        "ages": [band.value for band in AgeBand],
        "age_count": len(AgeBand),
        "sexes": [sex.value for sex in Sex],
        "sex_count": len(Sex),
        "share": VOLUNTEERED_SHARE,
    }
    with transaction.atomic():
        execute("SET LOCAL work_mem = '256MB'")
        execute("SET LOCAL maintenance_work_mem = '512MB'")
        execute("SET LOCAL session_replication_role = replica")
        execute("SELECT setseed(%(seed)s)", {"seed": SEED})
        with keys_rebuilt(GENERATED_TABLES):
            execute(USERS_SQL, params)
            execute(_events_sql(), params)
            execute(WALLETS_SQL, params)
            execute(MOVES_SQL, params)
            execute(TRANSFERS_SQL, params)
            execute(ENTRIES_SQL, params)
            execute(MONITORING_SQL, params)
        execute(BALANCES_SQL)
        execute("DROP TABLE bench_moves")
        execute("CREATE TABLE bench_audit_meta (accounts integer, generator integer)")
        execute(
            "INSERT INTO bench_audit_meta VALUES (%(accounts)s, %(generator)s)",
            {"accounts": accounts, "generator": GENERATOR_VERSION},
        )
    inserted = time.perf_counter() - started
    for table in GENERATED_TABLES:
        execute(f"VACUUM (ANALYZE) {table}")
    batch_started = time.perf_counter()
    tasks.recompute_all.delay().get()
    execute("VACUUM (ANALYZE) scoring_scoresnapshot")
    entries = execute("SELECT count(*) FROM wallet_entry")[0][0]
    events = execute("SELECT count(*) FROM scoring_creditevent")[0][0]
    print(
        f"generated {accounts} accounts, {events} events, {entries} ledger entries in "
        f"{inserted:.1f} s; the nightly batch's snapshots in "
        f"{time.perf_counter() - batch_started:.1f} s",
        flush=True,
    )


# --- The hand-written SQL --------------------------------------------------------------

_BAND_INDEX = (
    "CASE s.band "
    + " ".join(f"WHEN '{code}' THEN {index}" for index, code in enumerate(BAND_CODES))
    + " END"
)


def _fact_sql(fact: str) -> str:
    if fact == "score":
        return "s.score"
    if fact == BAND_FACT:
        return _BAND_INDEX
    if not fact.isidentifier():
        raise ValueError(fact)
    return f"(s.features ->> '{fact}')::bigint"


def waived_sql(terms: PerkTerms, requested: int) -> str:
    """What the perk's rules waive of a deposit of ``requested``, as SQL over the current
    snapshot ``s`` (a condition on an absent fact is NULL: not met, as in the rules)."""
    rules: Rules = terms.rules
    conditions = []
    for condition in rules.conditions:
        if condition.op not in OPERATORS:
            raise ValueError(condition.op)
        value = (
            BAND_CODES.index(str(condition.value))
            if condition.fact == BAND_FACT
            else int(condition.value)
        )
        sql_op = "=" if condition.op == "==" else condition.op
        conditions.append(f"{_fact_sql(condition.fact)} {sql_op} {value}")
    caps = " ".join(f"WHEN '{tier.band}' THEN {int(tier.max_amount)}" for tier in rules.tiers)
    waived = f"LEAST(CASE s.band {caps} ELSE 0 END, {int(terms.max_amount)}, {requested})"
    if not conditions:
        return waived
    return f"CASE WHEN {' AND '.join(conditions)} THEN {waived} ELSE 0 END"


def aggregation_sql(perks: list[PerkTerms]) -> str:
    waived = []
    counts = []
    for index, terms in enumerate(perks):
        requested = max(terms.max_amount, 1)
        waived.append(f"{waived_sql(terms, requested)} AS waived_{index}")
        counts.append(f"count(*) FILTER (WHERE waived_{index} > 0)")
        counts.append(f"count(*) FILTER (WHERE waived_{index} >= {requested})")
    ages = " ".join(
        f"WHEN age_days >= {fewest} THEN '{key}'" for fewest, key, _ in reversed(ACCOUNT_AGE_BANDS)
    )
    good = ", ".join(f"'{code}'" for code in BAND_CODES[BAND_CODES.index("good") :])
    return f"""
WITH p AS MATERIALIZED (
    SELECT %(at)s::timestamptz AS at, %(at_epoch)s::bigint AS at_epoch
),
latest AS (
    SELECT DISTINCT ON (account_id) account_id, scorecard_id, score, band, features
      FROM scoring_scoresnapshot
     ORDER BY account_id, computed_at DESC, id DESC
),
wealth AS (
    SELECT a.user_id,
           SUM(e.amount * LEAST({WEALTH_WINDOW_DAYS},
               (p.at_epoch - FLOOR(EXTRACT(EPOCH FROM e.created_at))::bigint) / 86400 + 1))
               AS weighted
      FROM wallet_ledgeraccount a
      JOIN wallet_entry e ON e.account_id = a.id
     CROSS JOIN p
     WHERE a.kind = 'wallet' AND e.created_at <= p.at
     GROUP BY a.user_id
),
base AS (
    SELECT u.id,
           s.band IN ({good}) AS good,
           {", ".join([*waived, "1 AS one"])},
           'q' || NTILE(5) OVER (ORDER BY COALESCE(w.weighted, 0), u.id) AS wealth_quintile,
           u.identity_level::text AS identity_level,
           CASE {ages} END AS account_age_band,
           NULLIF(m.age_band, '') AS age_band,
           NULLIF(m.sex, '') AS sex
      FROM wallet_user u
     CROSS JOIN p
     CROSS JOIN LATERAL (
         SELECT GREATEST(floor(EXTRACT(EPOCH FROM p.at - u.date_joined) / 86400), 0) AS age_days
     ) AS age
      JOIN latest s ON s.account_id = u.id AND s.scorecard_id = %(scorecard)s
      LEFT JOIN wealth w ON w.user_id = u.id
      LEFT JOIN governance_monitoringattributes m ON m.user_id = u.id
     WHERE u.is_active AND NOT u.is_staff AND NOT u.is_superuser
)
SELECT wealth_quintile, identity_level, account_age_band, age_band, sex,
       GROUPING(wealth_quintile, identity_level, account_age_band, age_band, sex),
       count(*), count(*) FILTER (WHERE good), {", ".join(counts)}
  FROM base
 GROUP BY GROUPING SETS ((wealth_quintile), (identity_level), (account_age_band),
                         (age_band), (sex))
"""  # noqa: S608 (every interpolated value comes from code or validated rules)


def sql_figures(rows: list[tuple[Any, ...]], perks: int) -> dict[str, dict[str, dict[str, Any]]]:
    """{dimension: {group: {count, rates...}}} from the aggregation's rows."""
    figures: dict[str, dict[str, dict[str, Any]]] = {key: {} for key in DIMENSION_KEYS}
    width = len(DIMENSION_KEYS)
    for row in rows:
        keys, grouping, count, good = row[:width], row[width], row[width + 1], row[width + 2]
        # GROUPING: a bit set for each column NOT grouped by; the one clear bit is ours.
        position = next(
            index for index in range(width) if not grouping & (1 << (width - 1 - index))
        )
        group = keys[position]
        if group is None:  # not volunteered: left out
            continue
        rates = {"good_or_better": good / count}
        for index in range(perks):
            rates[f"waiver_any:{index}"] = row[width + 3 + 2 * index] / count
            rates[f"waiver_full:{index}"] = row[width + 4 + 2 * index] / count
        figures[DIMENSION_KEYS[position]][str(group)] = {"count": count, **rates}
    return figures


def _sql_ratio(groups: dict[str, dict[str, Any]], rate: str, minimum: int) -> float | None:
    values = [figures[rate] for figures in groups.values() if figures["count"] >= minimum]
    if len(values) < 2 or not max(values):
        return None
    return round(min(values) / max(values), 4)


def compare(result: dict[str, Any], figures: dict[str, Any], perks: int) -> list[str]:
    """Every difference between the audit's report and the SQL's figures."""
    minimum = result["min_group_size"]
    problems = []
    subjects = result["subjects"]
    if len(subjects) != perks + 1:
        problems.append(f"the audit has {len(subjects)} subjects, not {perks + 1}")
        return problems
    for number, subject in enumerate(subjects):
        rates = (
            {"good_or_better": "good_or_better"}
            if number == 0
            else {
                "waiver_any": f"waiver_any:{number - 1}",
                "waiver_full": f"waiver_full:{number - 1}",
            }
        )
        for dimension in subject["dimensions"]:
            expected = figures[dimension["key"]]
            for group in dimension["groups"]:
                theirs = expected.get(group["key"])
                place = f"{subject['key']} {dimension['key']} {group['key']}"
                if group["suppressed"]:
                    if theirs is not None and theirs["count"] >= minimum:
                        problems.append(f"{place}: suppressed, SQL counts {theirs['count']}")
                    continue
                if theirs is None or theirs["count"] != group["count"]:
                    problems.append(f"{place}: count {group['count']}, SQL {theirs}")
                    continue
                for ours, sql in rates.items():
                    if group[ours] != round(theirs[sql], 4):
                        problems.append(f"{place} {ours}: {group[ours]}, SQL {theirs[sql]:.6f}")
            for ours, sql in rates.items():
                ratio = _sql_ratio(expected, sql, minimum)
                if dimension["ratios"][ours] != ratio:
                    problems.append(
                        f"{subject['key']} {dimension['key']} ratio {ours}: "
                        f"{dimension['ratios'][ours]}, SQL {ratio}"
                    )
    return problems


# --- Runs ------------------------------------------------------------------------------


def _audit() -> tuple[float, AnalysisRun]:
    started = time.perf_counter()
    run = analysis_request(kind=AnalysisKind.AUDIT, inputs={"live": True})  # eager: runs
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    if run.status != AnalysisStatus.DONE:
        sys.exit(f"the audit did not finish: {run.status} {run.error}")
    return elapsed, run


def _sql(sql: str, at: datetime, scorecard: int) -> tuple[float, list[tuple[Any, ...]]]:
    params = {"at": at, "at_epoch": int(at.timestamp()), "scorecard": scorecard}
    _unlimited()
    started = time.perf_counter()
    rows = execute(sql, params)
    return time.perf_counter() - started, rows


def _print_report(result: dict[str, Any]) -> None:
    floor = ratio_floor()
    print(
        f"audit report: {result['population']} accounts at {result['at']}; "
        f"min ratio {result['min_ratio']}; flagged {result['flagged']} (floor {floor})"
    )
    for subject in result["subjects"]:
        parts = []
        for dimension in subject["dimensions"]:
            ratios = ", ".join(
                f"{key} {'-' if value is None else f'{value:.3f}'}"
                for key, value in dimension["ratios"].items()
            )
            parts.append(f"{dimension['key']}: {ratios}")
        print(f"  {subject['label']}: " + "; ".join(parts))
    wealth = next(d for d in result["subjects"][0]["dimensions"] if d["key"] == "wealth_quintile")
    shares = ", ".join(
        f"{group['key']} {group.get('good_or_better', '-')}" for group in wealth["groups"]
    )
    print(f"  good or better by wealth fifth: {shares}")
    for factor in result["factor_points_by_wealth"]:
        means = " ".join(
            "-" if value is None else f"{value:.1f}" for value in factor["mean_points"].values()
        )
        proxy = " PROXY" if factor["proxy"] else ""
        print(f"  factor {factor['factor']}: q1..q5 {means}; ratio {factor['ratio']}{proxy}")


def _line(accounts: int, audit: float, sql: float, agree: bool) -> str:
    return (
        f"audit: {accounts} accounts in {audit:.2f} s; SQL {sql:.2f} s; "
        f"ratio {audit / sql:.2f}; agree: {'true' if agree else 'false'}"
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
    args = parser.parse_args()
    if args.accounts < 1 or args.repeat < 1:
        parser.error("--accounts and --repeat must be at least 1")
    if connection.vendor != "postgresql":
        sys.exit(
            "bench.audit measures PostgreSQL; run it with "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/open_sesame"
        )
    logging.getLogger("celery").setLevel(logging.WARNING)
    logging.getLogger("kombu").setLevel(logging.ERROR)
    logging.getLogger("governance").setLevel(logging.CRITICAL)  # the notice's error line
    logging.getLogger("scoring").setLevel(logging.WARNING)

    settings.DATABASES["default"]["TEST"]["NAME"] = BENCH_DATABASE
    with contextlib.redirect_stderr(io.StringIO()):
        old_config = setup_databases(
            verbosity=0, interactive=False, keepdb=args.reuse, serialized_aliases=set()
        )
    pairs: list[tuple[float, float, bool]] = []
    try:
        if args.reuse and _generated(args.accounts):
            print(f"reusing {args.accounts} accounts in {BENCH_DATABASE}", flush=True)
        else:
            if args.reuse:
                connection.close()
                teardown_databases(old_config, verbosity=0)
                old_config = setup_databases(
                    verbosity=0, interactive=False, keepdb=True, serialized_aliases=set()
                )
            _generate(args.accounts)
        scorecard = selectors.scorecard_active()
        perks = perk_terms_active()
        sql = aggregation_sql(perks)
        print(
            f"database: {connection.vendor} ({BENCH_DATABASE}), {args.accounts} accounts; "
            f"scorecard v{scorecard.version}; perks: {', '.join(t.label for t in perks)}",
            flush=True,
        )
        for number in range(1, args.repeat + 1):
            audit_seconds, run = _audit()
            at = run.population_at or datetime.now(tz=UTC)
            sql_seconds, rows = _sql(sql, at, scorecard.pk)
            problems = compare(run.result or {}, sql_figures(rows, len(perks)), len(perks))
            for problem in problems[:10]:
                print(f"  disagree: {problem}")
            pairs.append((audit_seconds, sql_seconds, not problems))
            if number == 1:
                _print_report(run.result or {})
            print(
                f"pair {number}: {_line(args.accounts, audit_seconds, sql_seconds, not problems)}",
                flush=True,
            )
    finally:
        connection.close()
        if args.reuse:
            print(f"kept {BENCH_DATABASE} for --reuse (drop it with: dropdb {BENCH_DATABASE})")
        else:
            teardown_databases(old_config, verbosity=0)
    audits = [pair[0] for pair in pairs]
    sqls = [pair[1] for pair in pairs]
    if len(pairs) > 1:
        print(
            f"spread: audit {min(audits):.2f}..{max(audits):.2f} s, "
            f"SQL {min(sqls):.2f}..{max(sqls):.2f} s, "
            f"ratios {min(a / s for a, s, _ in pairs):.2f}..{max(a / s for a, s, _ in pairs):.2f}"
        )
    print(
        _line(
            args.accounts,
            statistics.median(audits),
            statistics.median(sqls),
            all(pair[2] for pair in pairs),
        )
    )


if __name__ == "__main__":
    main()

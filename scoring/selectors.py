"""Reads of scoring: features, scorecards, snapshots, events, disputes, the access log.

These are the citizen's own reads (and the batch's). A read by anyone else goes through
``scoring.services.facts_disclose``, which logs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, Max, Min, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from common.approvals import subject_digest
from common.config_cache import config_cache
from common.rows import ModelColumns
from scoring import facts
from scoring.errors import AccountInactive, NoActiveScorecard
from scoring.facts import FACTS, Features
from scoring.models import (
    COUNTING_EVENT_STATUSES,
    AccessLogEntry,
    BatchRun,
    BatchRunStatus,
    CreditEvent,
    Dispute,
    EventKind,
    EventStatus,
    Scorecard,
    ScorecardStatus,
    ScoreSnapshot,
)
from scoring.scorecard import Reason, Result, simulate
from scoring.scorecard import Scorecard as CompiledScorecard
from wallet.models import User

# --- Features --------------------------------------------------------------------------


# One statement for any id range of accounts. Written as SQL rather than with the ORM
# because it is the nightly batch's hot path: one pass over the accounts' events, no
# per-value conversion on the way out (the rows become ``Features`` by position). It
# runs on PostgreSQL and SQLite alike; ``event_features`` covers it (index-only scans).
_FEATURES_SQL = """
SELECT u.id, u.identity_level, u.date_joined,
       COALESCE(e.on_time_12m, 0), COALESCE(e.late_12m, 0), COALESCE(e.late_24m, 0),
       COALESCE(e.bookings, 0), COALESCE(e.no_shows, 0), COALESCE(e.unpaid, 0),
       COALESCE(e.disputed, 0), COALESCE(e.history, 0), COALESCE(e.no_shows_24m, 0)
  FROM wallet_user u
  LEFT JOIN (
    SELECT account_id,
           COUNT(*) FILTER (WHERE counts AND kind = %(on_time)s) AS on_time_12m,
           COUNT(*) FILTER (WHERE counts AND kind IN (%(late)s, %(overdue)s)
                                         AND occurred_at > %(year_ago)s) AS late_12m,
           COUNT(*) FILTER (WHERE counts AND kind IN (%(late)s, %(overdue)s)) AS late_24m,
           COUNT(*) FILTER (WHERE counts AND kind = %(booking)s) AS bookings,
           COUNT(*) FILTER (WHERE counts AND kind = %(no_show)s) AS no_shows,
           COUNT(*) FILTER (WHERE counts AND kind = %(unpaid)s) AS unpaid,
           COUNT(*) FILTER (WHERE status = %(disputed)s) AS disputed,
           COUNT(*) FILTER (WHERE counts) AS history,
           COUNT(*) FILTER (WHERE kind = %(no_show)s AND in_24m) AS no_shows_24m
      FROM (
        SELECT account_id, kind, occurred_at, status,
               (status IN (%(active)s, %(disputed)s)
                AND occurred_at <= %(at)s AND counts_until > %(at)s
                AND (settled_at IS NULL OR settled_at > %(at)s)) AS counts,
               (status IN (%(active)s, %(disputed)s)
                AND occurred_at <= %(at)s AND occurred_at > %(two_years_ago)s
                AND (settled_at IS NULL OR settled_at > %(at)s)) AS in_24m
          FROM scoring_creditevent
         WHERE account_id {accounts}
      ) event
     GROUP BY account_id
  ) e ON e.account_id = u.id
 WHERE u.id {accounts} AND u.is_active
 ORDER BY u.id
"""
_IN_RANGE = "BETWEEN %(first_id)s AND %(last_id)s"
_FEATURES_IN_RANGE_SQL = _FEATURES_SQL.format(accounts=_IN_RANGE)
# A list of accounts (the outbox's relay, one account in a request): on PostgreSQL one
# array parameter, so that the statement is the same whatever the list's length.
_FEATURES_IN_LIST_SQL = _FEATURES_SQL.format(accounts="= ANY(%(ids)s)")


def features_for_accounts(
    *, first_id: int, last_id: int, at: datetime, account_ids: Sequence[int] | None = None
) -> list[tuple[int, Features]]:
    """The features of every active account with ``first_id <= id <= last_id`` (or,
    given ``account_ids``, of those accounts) at ``at``.

    One set-based query, whatever the number of accounts or events: the same function
    serves one account or a list of them (the outbox's relay) and a chunk of the nightly
    batch. An event counts while it is active or disputed (a dispute awaiting an answer
    does not stop it counting), has happened, is inside its window and is not settled;
    ``open_disputes`` counts the disputed ones. ``no_shows_24m`` counts no-shows as the
    others count, but over 24 months whatever their own window (12 months): the share of
    stays completed well looks back 24 months. Ordered by account id.
    """
    adapt = connection.ops.adapt_datetimefield_value
    sql = _FEATURES_IN_RANGE_SQL
    params: dict[str, Any] = {
        "first_id": first_id,
        "last_id": last_id,
        "at": adapt(at),
        "year_ago": adapt(at - timedelta(days=facts.DAYS_12_MONTHS)),
        "two_years_ago": adapt(at - timedelta(days=facts.DAYS_24_MONTHS)),
        "active": EventStatus.ACTIVE,
        "disputed": EventStatus.DISPUTED,
        "on_time": EventKind.BILL_PAID_ON_TIME,
        "late": EventKind.BILL_PAID_LATE,
        "overdue": EventKind.BILL_OVERDUE,
        "booking": EventKind.BOOKING_COMPLETED,
        "no_show": EventKind.NO_SHOW,
        "unpaid": EventKind.CLAIM_UNPAID,
    }
    if account_ids is not None:
        ids = list(account_ids)
        if connection.vendor == "postgresql":
            sql, params["ids"] = _FEATURES_IN_LIST_SQL, ids
        else:  # no arrays: one parameter per account
            names = [f"id{index}" for index in range(len(ids))]
            sql = _FEATURES_SQL.format(
                accounts=f"IN ({', '.join(f'%({name})s' for name in names) or 'NULL'})"
            )
            params.update(zip(names, ids, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    make = Features._make
    return [
        (pk, make((level, _age_days(at, joined), *counts))) for pk, level, joined, *counts in rows
    ]


def _age_days(at: datetime, joined: datetime) -> int:
    if joined.tzinfo is None:  # SQLite keeps naive UTC
        joined = joined.replace(tzinfo=UTC)
    return max((at - joined).days, 0)


def account_id_chunks(*, size: int) -> list[tuple[int, int]]:
    """Id ranges of at most ``size`` ids covering every account, for the batch."""
    bounds = get_user_model().objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return []
    return [
        (first, min(first + size - 1, bounds["high"]))
        for first in range(bounds["low"], bounds["high"] + 1, size)
    ]


def account_id_chunks_counted(*, size: int) -> list[tuple[int, int, int]]:
    """``account_id_chunks`` with the number of active accounts in each range, counted in
    one statement: the control totals a batch run is checked against."""
    chunks = account_id_chunks(size=size)
    if not chunks:
        return []
    low = chunks[0][0]
    counts = dict(
        get_user_model()
        .objects.filter(is_active=True)
        .annotate(chunk=(F("pk") - low) / size)
        .values_list("chunk")
        .annotate(accounts=Count("pk"))
        .values_list("chunk", "accounts")
    )
    return [(first, last, counts.get(n, 0)) for n, (first, last) in enumerate(chunks)]


# --- SQL expressions shared by set-based reads ------------------------------------------


def json_int_sql(column: str, key: str) -> str:
    """An integer member of a JSON column (NULL when absent), as an SQL expression;
    ``key`` is an identifier of the code or of a validated scorecard."""
    if not key.isidentifier():
        raise ValueError(f"not a JSON key a statement may read: {key!r}")
    if connection.vendor == "postgresql":
        return f"({column} ->> '{key}')::bigint"
    return f"json_extract({column}, '$.{key}')"


def snapshot_feature_sql(name: str, alias: str = "s") -> str:
    """A feature as the snapshot ``alias`` stored it; an older snapshot's stand-in where
    it lacks a newer field (``scoring.facts.FEATURE_STAND_INS``, as ``Features.from_dict``
    reads it)."""
    column = f"{alias}.features"
    stand_in = facts.FEATURE_STAND_INS.get(name)
    if stand_in is None:
        return json_int_sql(column, name)
    return f"COALESCE({json_int_sql(column, name)}, {json_int_sql(column, stand_in)})"


def epoch_seconds_sql(column: str) -> str:
    """A datetime column in whole seconds since the epoch, alike on both databases."""
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM {column}))::bigint"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


# --- Scorecards ------------------------------------------------------------------------

_compiled: dict[int, tuple[object, CompiledScorecard]] = {}


def scorecard_digest(scorecard: Scorecard) -> str:
    """The digest an approval's audit must carry: of the definition approved."""
    return subject_digest(scorecard.definition)


def scorecard_compiled(scorecard: Scorecard) -> CompiledScorecard:
    """The scorecard's definition, validated and compiled (cached while unchanged)."""
    cached = _compiled.get(scorecard.pk)
    if cached is not None and cached[0] == scorecard.definition:
        return cached[1]
    compiled = CompiledScorecard.from_definition(scorecard.definition, version=scorecard.version)
    _compiled[scorecard.pk] = (scorecard.definition, compiled)
    return compiled


def _scorecard_active_read() -> Scorecard:
    scorecard = Scorecard.objects.filter(status=ScorecardStatus.ACTIVE).first()
    if scorecard is None:
        raise NoActiveScorecard()
    return scorecard


def scorecard_active(*, generation: int | None = None) -> Scorecard:
    """The active scorecard. Given the configuration generation a statement of the
    caller's just read (``common.config_cache``), from this process's memory while that
    generation lasts (``services.scorecard_activate`` bumps it); without one, read now."""
    if generation is None:
        return _scorecard_active_read()
    return config_cache.get(
        ("scorecard_active",), generation=generation, load=_scorecard_active_read
    )


# --- Snapshots -------------------------------------------------------------------------


def snapshots_latest(
    *, first_id: int, last_id: int, account_ids: Sequence[int] | None = None
) -> dict[int, int]:
    """The fingerprint of each account's current snapshot, for accounts in the range
    (or, given ``account_ids``, those accounts)."""
    snapshots = ScoreSnapshot.objects.filter(account_id__gte=first_id, account_id__lte=last_id)
    if account_ids is not None:
        snapshots = ScoreSnapshot.objects.filter(account_id__in=account_ids)
    latest = (
        snapshots.annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("account_id"),
                order_by=(F("computed_at").desc(), F("id").desc()),
            )
        )
        .filter(rank=1)
        .values_list("account_id", "fingerprint")
    )
    return dict(latest)


def score_history(*, account: User) -> QuerySet[ScoreSnapshot]:
    """The account's snapshots, newest first; the first is the current score."""
    return ScoreSnapshot.objects.filter(account=account).order_by("-computed_at", "-id")


def score_current(*, account: User) -> ScoreSnapshot | None:
    """The current score, in one query (with its scorecard)."""
    return score_history(account=account).select_related("scorecard").first()


# The current snapshot as a disclosure reads it: once in every merchant's eligibility
# request. Written as SQL rather than with the ORM because compiling that query cost
# several times what running it did (bench/eligibility.py), and without the scorecard:
# its definition was the largest value the request decoded, and a disclosure reads none
# of it. Runs on PostgreSQL and SQLite alike; ``snapshot_current`` covers it. A statement
# that reads more than the snapshot (the decision's, ``merchants.perks.selectors``) joins
# ``scoring_scoresnapshot`` as ``snapshot`` on ``snapshot_current_id_sql`` and selects
# ``SNAPSHOT_DISCLOSED.sql``.
SNAPSHOT_DISCLOSED = ModelColumns(
    ScoreSnapshot,
    ("id", "account", "scorecard", "score", "band", "features", "computed_at"),
    alias="snapshot",
)


def snapshot_current_id_sql(account_id: str) -> str:
    """The id of the current snapshot of the account ``account_id`` (an SQL expression:
    a placeholder, or a column of the outer statement), as a scalar subquery."""
    return (
        "(SELECT id FROM scoring_scoresnapshot"  # noqa: S608 (a placeholder or a column)
        f" WHERE account_id = {account_id} ORDER BY computed_at DESC, id DESC LIMIT 1)"
    )


_SNAPSHOT_DISCLOSED_SQL = f"""
SELECT {SNAPSHOT_DISCLOSED.sql}
  FROM scoring_scoresnapshot snapshot
 WHERE snapshot.id = {snapshot_current_id_sql("%s")}
"""  # noqa: S608 (names from the models, no input)


def score_current_disclosed(*, account_id: int) -> ScoreSnapshot | None:
    """The current snapshot with what a disclosure reads, in one statement. Its
    explanation (``points``, ``reasons``) loads only if something reads it."""
    with connection.cursor() as cursor:
        cursor.execute(_SNAPSHOT_DISCLOSED_SQL, [account_id])
        row = cursor.fetchone()
    return SNAPSHOT_DISCLOSED.instance(row) if row is not None else None


# What says whether an account's current snapshot is still its score: the outbox row's
# version (if a recompute is wanted), the account's identity level now and the active
# scorecard, as three columns of a statement about the account ``account_id`` (an SQL
# expression). A statement that reads the snapshot (``score_current_checked``, and the
# decision's own in ``merchants.perks.selectors``) adds them, so that whether the score is
# fresh costs no statement of its own (``scoring.services.score_fresh``).
STALENESS_COLUMNS = 3


def snapshot_staleness_sql(account_id: str) -> str:
    return (
        "(SELECT w.version FROM scoring_recomputewanted w"  # noqa: S608 (a column or placeholder)
        f" WHERE w.account_id = {account_id}),"
        f" (SELECT u.identity_level FROM wallet_user u WHERE u.id = {account_id}),"
        " (SELECT c.id FROM scoring_scorecard c"
        f" WHERE c.status = '{ScorecardStatus.ACTIVE.value}')"
    )


@dataclass(frozen=True, slots=True)
class SnapshotChecked:
    """The current snapshot (None: never scored) and why it may no longer be the score."""

    snapshot: ScoreSnapshot | None
    outbox_version: int | None = None
    level_now: int | None = None
    scorecard_now: int | None = None

    @classmethod
    def of(cls, snapshot: ScoreSnapshot | None, staleness: Sequence[Any]) -> SnapshotChecked:
        """From the snapshot and the values of :func:`snapshot_staleness_sql`'s columns."""
        outbox_version, level_now, scorecard_now = staleness
        return cls(snapshot, outbox_version, level_now, scorecard_now)

    @property
    def stale_because(self) -> str | None:
        """Why the snapshot is not the account's score now, or None if it is: a
        recompute is wanted (the outbox), the identity level changed since, or another
        scorecard is active."""
        snapshot = self.snapshot
        if snapshot is None:
            return "never scored"
        if self.outbox_version is not None:
            return "recompute wanted"
        if snapshot.features.get("identity_level") != self.level_now:
            return "identity level changed"
        if snapshot.scorecard_id != self.scorecard_now:
            return "scorecard changed"
        return None


_SNAPSHOT_CHECKED_SQL = f"""
SELECT {SNAPSHOT_DISCLOSED.sql}, {snapshot_staleness_sql("snapshot.account_id")}
  FROM scoring_scoresnapshot snapshot
 WHERE snapshot.id = {snapshot_current_id_sql("%s")}
"""  # noqa: S608 (names from the models, no input)


def score_current_checked(*, account_id: int) -> SnapshotChecked:
    """The current snapshot with what a disclosure reads, and whether it is stale, in one
    statement."""
    with connection.cursor() as cursor:
        cursor.execute(_SNAPSHOT_CHECKED_SQL, [account_id])
        row = cursor.fetchone()
    if row is None:
        return SnapshotChecked(snapshot=None)
    width = len(SNAPSHOT_DISCLOSED)
    return SnapshotChecked.of(SNAPSHOT_DISCLOSED.instance(row[:width]), row[width:])


# --- Events, disputes, access log ------------------------------------------------------


def event_counts(event: CreditEvent, *, at: datetime) -> bool:
    """Whether the event counts towards the score at ``at`` (as the features query)."""
    return (
        event.status in COUNTING_EVENT_STATUSES
        and event.occurred_at <= at < event.counts_until
        and (event.settled_at is None or event.settled_at > at)
    )


def events_for(*, account: User) -> QuerySet[CreditEvent]:
    return (
        CreditEvent.objects.filter(account=account)
        .select_related("dispute")
        .order_by("-occurred_at", "-recorded_at")
    )


def disputes_for(*, citizen: User) -> QuerySet[Dispute]:
    return Dispute.objects.filter(citizen=citizen).select_related("event").order_by("-opened_at")


def disputes_furnished_by(*, furnisher_id: uuid.UUID) -> QuerySet[Dispute]:
    """Disputes of the records this merchant furnished, newest first, with their events:
    what the merchant answers. Nothing else about the citizen is read here."""
    return (
        Dispute.objects.filter(furnisher_id=furnisher_id)
        .select_related("event")
        .order_by("-opened_at", "-pk")
    )


def access_log_for(*, citizen: User) -> QuerySet[AccessLogEntry]:
    return AccessLogEntry.objects.filter(citizen=citizen).order_by("-created_at", "-id")


# --- Explained scores ------------------------------------------------------------------


@dataclass(frozen=True)
class FactorLine:
    key: str
    label: str
    fact: str
    value: int | None
    points: int
    max_points: int


@dataclass(frozen=True)
class ExplainedScore:
    score: int
    band: str
    computed_at: datetime | None
    scorecard_version: int
    trigger: str | None
    factors: tuple[FactorLine, ...]
    reasons: tuple[Reason, ...]
    previous_score: int | None = None


def score_explained(
    *, snapshot: ScoreSnapshot, previous: ScoreSnapshot | None = None
) -> ExplainedScore:
    """A snapshot in words: each factor's points against its maximum, and the reasons
    with their labels and tips (from the scorecard version that made it)."""
    card = scorecard_compiled(snapshot.scorecard)
    factors = tuple(
        FactorLine(
            key=factor.key,
            label=factor.label,
            fact=factor.fact,
            value=snapshot.features.get(factor.fact),
            points=snapshot.points.get(factor.key, 0),
            max_points=factor.max_points,
        )
        for factor in card.factors
    )
    reasons = tuple(
        Reason(code, label, points_lost, tip)
        for code, points_lost in snapshot.reasons
        for label, tip in (card.reason_text(code, snapshot.features),)
    )
    return ExplainedScore(
        score=snapshot.score,
        band=snapshot.band,
        computed_at=snapshot.computed_at,
        scorecard_version=card.version,
        trigger=snapshot.trigger,
        factors=factors,
        reasons=reasons,
        previous_score=previous.score if previous is not None else None,
    )


def features_current(*, account: User) -> Features:
    """Today's features: those of the current snapshot, or computed now for an account
    that has none yet. Writes nothing."""
    snapshot = score_current(account=account)
    if snapshot is not None:
        return Features.from_dict(snapshot.features)
    rows = features_for_accounts(first_id=account.pk, last_id=account.pk, at=timezone.now())
    if not rows:
        raise AccountInactive()
    return rows[0][1]


def score_simulated(*, features: Features, changes: dict[str, int]) -> tuple[Result, Result]:
    """(today, with the changes) under the active scorecard. Writes nothing."""
    card = scorecard_compiled(scorecard_active())
    changed = simulate(features, changes)
    return (
        card.reasons_said(card.evaluate(features), features),
        card.reasons_said(card.evaluate(changed), changed),
    )


# --- Facts as rules read them ----------------------------------------------------------


def facts_of(
    *,
    score: int,
    band: str,
    features: Mapping[str, int | None],
    keys: Iterable[str] = FACTS,
) -> dict[str, int | str | None]:
    """The facts a merchant's rules read: the score and band, and every other fact from
    the features (None where one is absent, such as the on-time ratio without bills).

    The one place facts are put together, so that a merchant's decision
    (``services.facts_disclose``) and the citizen's own view of the perks read a citizen
    alike.
    """
    return {
        key: score if key == "score" else band if key == "band" else features.get(key)
        for key in keys
    }


@dataclass(frozen=True)
class CurrentFacts:
    """Where a citizen stands now, exactly as a merchant's decision would read it.

    ``scorecard`` is the active one, for what-ifs: a change the citizen makes is scored
    by it, whichever version made the current snapshot.
    """

    features: Features
    score: int
    band: str
    facts: dict[str, int | str | None]
    snapshot: ScoreSnapshot | None
    scorecard: CompiledScorecard


def facts_current(*, account: User) -> CurrentFacts:
    """The facts of the current snapshot or, for an account that has none yet, those its
    first snapshot would hold (today's features under the active scorecard). Writes
    nothing: the citizen's own look must leave no snapshot and no access-log row."""
    snapshot = score_current(account=account)
    if snapshot is not None and snapshot.scorecard.status == ScorecardStatus.ACTIVE:
        scorecard = snapshot.scorecard
    else:
        scorecard = scorecard_active()
    card = scorecard_compiled(scorecard)
    if snapshot is not None:
        features = Features.from_dict(snapshot.features)
        score, band, stored = snapshot.score, snapshot.band, snapshot.features
    else:
        rows = features_for_accounts(first_id=account.pk, last_id=account.pk, at=timezone.now())
        if not rows:
            raise AccountInactive()
        features = rows[0][1]
        result = card.evaluate(features)
        score, band, stored = result.score, result.band, features.as_dict()
    return CurrentFacts(
        features=features,
        score=score,
        band=band,
        facts=facts_of(score=score, band=band, features=stored),
        snapshot=snapshot,
        scorecard=card,
    )


# --- Batch runs ------------------------------------------------------------------------


def batch_runs_needing_attention(*, now: datetime | None = None) -> QuerySet[BatchRun]:
    """Runs an operator should look at: running past their deadline (they are being
    resumed) or finished with control totals that disagree."""
    now = now or timezone.now()
    return BatchRun.objects.filter(
        Q(status=BatchRunStatus.RUNNING, deadline__lt=now) | Q(status=BatchRunStatus.FAILED)
    )

"""The training table's set-based SQL, checked against a plain Python computation of the
same rows over random histories, and its edges one by one (on the test database: SQLite
locally, PostgreSQL in CI). Time is pinned: every moment is relative to ``AS_OF``."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.facts import EVENT_WINDOW_DAYS, EventKinds, Features
from scoring.models import CreditEvent, EventStatus, Scorecard, ScoreSnapshot, SnapshotTrigger
from scoring.outcomes import OUTCOME_MATURE_DAYS
from scoring.training import TrainingTable, on_time_ratios, stays_well_shares, training_table
from tests.factories import UserFactory

AS_OF = datetime(2027, 9, 15, 10, 0, tzinfo=UTC)
MATURE_AT = AS_OF - timedelta(days=395)  # 2026-08-16 10:00 UTC
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KINDS = sorted(EVENT_WINDOW_DAYS)


def _scorecard_id() -> int:
    scorecard_id = Scorecard.objects.order_by("pk").values_list("pk", flat=True).first()
    assert scorecard_id is not None  # the migrations' version 1
    return scorecard_id


@dataclass(frozen=True)
class PlannedSnapshot:
    at: datetime
    score: int
    features: dict[str, int | None]  # as stored (an old one lacks ``no_shows_24m``)


@dataclass(frozen=True)
class PlannedEvent:
    kind: str
    at: datetime
    status: str
    settled_at: datetime | None


def _stored(values: list[int], old: bool) -> dict[str, int | None]:
    stored: dict[str, int | None] = Features._make(values).as_dict()
    if old:
        del stored["no_shows_24m"]
    return stored


def _snapshot_at(days_ago: float) -> datetime:
    return AS_OF - timedelta(days=days_ago)


# Moments that sit on an edge: the maturity edge itself, a second either side, the last
# microsecond of a quarter and the first of the next (UTC).
EDGE_MOMENTS = [
    MATURE_AT,
    MATURE_AT - timedelta(seconds=1),
    MATURE_AT + timedelta(seconds=1),
    datetime(2026, 7, 1, tzinfo=UTC),
    datetime(2026, 7, 1, tzinfo=UTC) - timedelta(microseconds=1),
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2025, 4, 1, tzinfo=UTC),
]

moments = st.one_of(
    st.floats(0, 1_100, allow_nan=False).map(_snapshot_at),
    st.sampled_from(EDGE_MOMENTS),
)
planned_snapshots = st.builds(
    PlannedSnapshot,
    at=moments,
    score=st.integers(350, 950),
    features=st.builds(
        _stored, st.lists(st.integers(0, 9), min_size=11, max_size=11), st.booleans()
    ),
)
# Offsets of an event after a snapshot that sit on the window's edges.
EDGE_OFFSETS = [
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(days=365),
    timedelta(days=365, microseconds=1),
    timedelta(days=365, seconds=-1),
]
# Settlement delays that sit on the 30 days a claim has to be paid.
SETTLE_DELAYS = st.one_of(
    st.none(),
    st.sampled_from([timedelta(days=30), timedelta(days=30, seconds=1), timedelta(0)]),
    st.floats(0, 90, allow_nan=False).map(lambda days: timedelta(days=days)),
)
STATUSES = st.sampled_from([EventStatus.ACTIVE] * 3 + [EventStatus.DISPUTED, EventStatus.REMOVED])


@st.composite
def planned_history(draw: st.DrawFn):
    flags = {
        "is_active": draw(st.sampled_from([True] * 5 + [False])),
        "is_staff": draw(st.sampled_from([False] * 5 + [True])),
        "is_superuser": draw(st.sampled_from([False] * 7 + [True])),
    }
    snapshots = draw(st.lists(planned_snapshots, max_size=10))
    events = []
    for _ in range(draw(st.integers(0, 10))):
        on_edge: bool = draw(st.booleans())
        if snapshots and on_edge:  # on an edge of a snapshot's window
            at = draw(st.sampled_from(snapshots)).at + draw(st.sampled_from(EDGE_OFFSETS))
        else:
            at = _snapshot_at(draw(st.floats(-30, 1_200, allow_nan=False)))
        delay = draw(SETTLE_DELAYS)
        events.append(
            PlannedEvent(
                kind=draw(st.sampled_from(KINDS)),
                at=at,
                status=draw(STATUSES),
                settled_at=None if delay is None else at + delay,
            )
        )
    return flags, snapshots, events


def _write(flags: dict[str, bool], snapshots: list[PlannedSnapshot], events: list[PlannedEvent]):
    user = UserFactory.create(**flags)
    scorecard_id = _scorecard_id()
    made = ScoreSnapshot.objects.bulk_create(
        ScoreSnapshot(
            account=user,
            scorecard_id=scorecard_id,
            score=snapshot.score,
            band="good",
            points={},
            reasons=[],
            features=snapshot.features,
            fingerprint=index,
            trigger=SnapshotTrigger.BATCH,
            computed_at=snapshot.at,
        )
        for index, snapshot in enumerate(snapshots)
    )
    CreditEvent.objects.bulk_create(
        CreditEvent(
            account=user,
            kind=event.kind,
            occurred_at=event.at,
            counts_until=event.at + timedelta(days=EVENT_WINDOW_DAYS[event.kind]),
            source=f"planned:{index}",
            status=event.status,
            settled_at=event.settled_at,
        )
        for index, event in enumerate(events)
    )
    ids = [snapshot.pk for snapshot in made]  # bulk_create sets them on both databases
    return user, ids


# --- The plain computation --------------------------------------------------------------


def _is_bad(taken: datetime, events: list[PlannedEvent]) -> bool:
    """Written from the outcome's words, not from the query."""
    for event in events:
        if event.status == EventStatus.REMOVED:
            continue
        if not (taken < event.at <= taken + timedelta(days=365)):
            continue
        if event.kind in (EventKinds.NO_SHOW, EventKinds.BILL_OVERDUE):
            return True
        if event.kind == EventKinds.CLAIM_UNPAID and (
            event.settled_at is None or event.settled_at > event.at + timedelta(days=30)
        ):
            return True
    return False


def expected_rows(accounts) -> list[tuple]:
    rows = []
    for user, flags, snapshots, ids, events in sorted(accounts, key=lambda a: a[0].pk):
        if not flags["is_active"] or flags["is_staff"] or flags["is_superuser"]:
            continue
        last_of_quarter: dict[tuple[int, int], tuple[datetime, int, PlannedSnapshot]] = {}
        for snapshot, pk in zip(snapshots, ids, strict=True):
            if snapshot.at > AS_OF - timedelta(days=OUTCOME_MATURE_DAYS):
                continue
            at = snapshot.at.astimezone(UTC)
            quarter = (at.year, (at.month - 1) // 3)
            if quarter not in last_of_quarter or (at, pk) > last_of_quarter[quarter][:2]:
                last_of_quarter[quarter] = (at, pk, snapshot)
        for at, pk, snapshot in sorted(last_of_quarter.values(), key=lambda row: row[:2]):
            rows.append(
                (
                    user.pk,
                    pk,
                    _scorecard_id(),
                    snapshot.score,
                    (at - EPOCH) // timedelta(seconds=1),
                    tuple(Features.from_dict(snapshot.features)),
                    _is_bad(at, events),
                )
            )
    return rows


def table_rows(table: TrainingTable) -> list[tuple]:
    return [
        (*head, tuple(features), bad)
        for *head, features, bad in zip(
            table.account_ids.tolist(),
            table.snapshot_ids.tolist(),
            table.scorecard_ids.tolist(),
            table.scores.tolist(),
            table.taken_at.tolist(),
            table.features.tolist(),
            table.bad.tolist(),
            strict=True,
        )
    ]


@pytest.mark.django_db
@given(histories=st.lists(planned_history(), min_size=1, max_size=4))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_training_table_matches_a_plain_python_computation(histories):
    # (each example in a transaction of its own, undone: the table reads every account)
    with transaction.atomic():
        # Given a few accounts with random snapshots over three years and random records
        # after them (windows' edges, disputes, removals, claims paid late or never)
        accounts = []
        for flags, snapshots, events in histories:
            user, ids = _write(flags, snapshots, events)
            accounts.append((user, flags, snapshots, ids, events))
        expected = expected_rows(accounts)
        # When the table is built in one range and in ranges of two accounts
        whole = training_table(as_of=AS_OF)
        ranged = training_table(as_of=AS_OF, chunk_size=2)
        transaction.set_rollback(True)
    # Then both are the plain computation's rows
    assert table_rows(whole) == expected
    assert table_rows(ranged) == expected
    assert whole.features.dtype == np.int64
    assert whole.bad.dtype == bool


# --- The derived facts ------------------------------------------------------------------


@given(st.lists(st.lists(st.integers(0, 40), min_size=11, max_size=11), min_size=1, max_size=50))
def test_derived_facts_are_the_features_properties(values):
    rows = [Features._make(row) for row in values]
    table = TrainingTable(
        as_of=AS_OF,
        account_ids=np.arange(len(rows), dtype=np.int64),
        snapshot_ids=np.arange(len(rows), dtype=np.int64),
        scorecard_ids=np.ones(len(rows), dtype=np.int64),
        scores=np.full(len(rows), 600, dtype=np.int64),
        taken_at=np.zeros(len(rows), dtype=np.int64),
        features=np.array(values, dtype=np.int64).reshape(-1, 11),
        bad=np.zeros(len(rows), dtype=bool),
    )
    assert table.features_rows() == rows
    for key in ("on_time_ratio_12m", "stays_completed_well_24m", "no_shows_12m"):
        expected = [getattr(features, key) for features in rows]
        got = [None if np.isnan(value) else int(value) for value in table.fact(key).tolist()]
        assert got == expected, key
    frame = table.facts_frame(("on_time_ratio_12m", "identity_level"))
    assert list(frame.columns) == ["on_time_ratio_12m", "identity_level"]
    assert len(frame) == len(rows)


def test_the_vectorised_shares_round_down_like_the_functions():
    assert on_time_ratios(np.array([2, 0, 0]), np.array([1, 0, 3])).tolist()[::2] == [66, 0]
    assert np.isnan(on_time_ratios(np.array([0]), np.array([0]))[0])
    shares = stays_well_shares(np.array([1, 1, 2]), np.array([0, 1, 0]), np.array([0, 0, 1]))
    assert np.isnan(shares[0])
    assert shares[1:].tolist() == [50, 66]


def test_only_facts_of_the_features_are_read():
    empty = TrainingTable(
        as_of=AS_OF,
        account_ids=np.zeros(0, dtype=np.int64),
        snapshot_ids=np.zeros(0, dtype=np.int64),
        scorecard_ids=np.zeros(0, dtype=np.int64),
        scores=np.zeros(0, dtype=np.int64),
        taken_at=np.zeros(0, dtype=np.int64),
        features=np.zeros((0, 11), dtype=np.int64),
        bad=np.zeros(0, dtype=bool),
    )
    for key in ("score", "band", "wealth", "on_time_payments_12m"):
        with pytest.raises(KeyError):
            empty.fact(key)


# --- The edges, one by one --------------------------------------------------------------

FEATURES = Features(1, 400, 5, 1, 2, 3, 0, 0, 0, 9, 1)


def _citizen(**flags: bool):
    return UserFactory.create(**flags)


def _snapshot(user, at: datetime, *, features: dict | None = None, score: int = 600) -> int:
    return ScoreSnapshot.objects.create(
        account=user,
        scorecard_id=_scorecard_id(),
        score=score,
        band="good",
        points={},
        reasons=[],
        features=FEATURES.as_dict() if features is None else features,
        fingerprint=0,
        trigger=SnapshotTrigger.BATCH,
        computed_at=at,
    ).pk


def _event(user, kind: str, at: datetime, *, status=EventStatus.ACTIVE, settled_at=None) -> None:
    CreditEvent.objects.create(
        account=user,
        kind=kind,
        occurred_at=at,
        counts_until=at + timedelta(days=EVENT_WINDOW_DAYS[kind]),
        source=f"edge:{CreditEvent.objects.count()}",
        status=status,
        settled_at=settled_at,
    )


def _bad_by_account() -> dict[int, bool]:
    table = training_table(as_of=AS_OF)
    assert len(set(table.account_ids.tolist())) == len(table)
    return dict(zip(table.account_ids.tolist(), table.bad.tolist(), strict=True))


TAKEN = datetime(2025, 11, 20, 8, 30, 15, 250_000, tzinfo=UTC)


@pytest.mark.django_db
def test_a_snapshot_is_mature_exactly_395_days_before_as_of():
    at_edge, after_edge = _citizen(), _citizen()
    _snapshot(at_edge, MATURE_AT)
    _snapshot(after_edge, MATURE_AT + timedelta(microseconds=1))
    table = training_table(as_of=AS_OF)
    assert table.account_ids.tolist() == [at_edge.pk]
    assert table.taken_at.tolist() == [(MATURE_AT - EPOCH) // timedelta(seconds=1)]


@pytest.mark.django_db
def test_the_window_starts_after_the_snapshot_and_ends_365_days_after_it():
    at_snapshot, at_end, after_end, just_after = (_citizen() for _ in range(4))
    for user in (at_snapshot, at_end, after_end, just_after):
        _snapshot(user, TAKEN)
    _event(at_snapshot, EventKinds.NO_SHOW, TAKEN)  # the score already knew it
    _event(at_end, EventKinds.NO_SHOW, TAKEN + timedelta(days=365))
    _event(after_end, EventKinds.NO_SHOW, TAKEN + timedelta(days=365, microseconds=1))
    _event(just_after, EventKinds.BILL_OVERDUE, TAKEN + timedelta(microseconds=1))
    assert _bad_by_account() == {
        at_snapshot.pk: False,
        at_end.pk: True,
        after_end.pk: False,
        just_after.pk: True,
    }


@pytest.mark.django_db
def test_a_claim_is_bad_when_not_paid_within_30_days():
    paid_at_30_days, paid_a_second_later, never_paid, paid_claim = (_citizen() for _ in range(4))
    claimed = TAKEN + timedelta(days=100)
    for user, settled_at in (
        (paid_at_30_days, claimed + timedelta(days=30)),
        (paid_a_second_later, claimed + timedelta(days=30, seconds=1)),
        (never_paid, None),
    ):
        _snapshot(user, TAKEN)
        _event(user, EventKinds.CLAIM_UNPAID, claimed, settled_at=settled_at)
    _snapshot(paid_claim, TAKEN)
    _event(paid_claim, EventKinds.CLAIM_PAID, claimed)
    assert _bad_by_account() == {
        paid_at_30_days.pk: False,
        paid_a_second_later.pk: True,
        never_paid.pk: True,
        paid_claim.pk: False,
    }


@pytest.mark.django_db
def test_removed_records_do_not_count_and_disputed_ones_do():
    removed, disputed, good_records = _citizen(), _citizen(), _citizen()
    for user in (removed, disputed, good_records):
        _snapshot(user, TAKEN)
    _event(removed, EventKinds.NO_SHOW, TAKEN + timedelta(days=10), status=EventStatus.REMOVED)
    _event(disputed, EventKinds.NO_SHOW, TAKEN + timedelta(days=10), status=EventStatus.DISPUTED)
    for kind in (EventKinds.BILL_PAID_LATE, EventKinds.BOOKING_COMPLETED, EventKinds.CLAIM_PAID):
        _event(good_records, kind, TAKEN + timedelta(days=10))
    assert _bad_by_account() == {removed.pk: False, disputed.pk: True, good_records.pk: False}


@pytest.mark.django_db
def test_one_snapshot_per_utc_quarter_the_last_one_taken_in_it(is_postgres):
    if is_postgres:  # whatever the session's time zone, quarters are UTC's
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL TIME ZONE 'Pacific/Auckland'")
    user = _citizen()
    end_of_june = datetime(2026, 6, 30, 23, 59, 59, 999_999, tzinfo=UTC)
    first_of_july = datetime(2026, 7, 1, tzinfo=UTC)
    april = _snapshot(user, datetime(2026, 4, 1, tzinfo=UTC))
    june = _snapshot(user, end_of_june)
    july = _snapshot(user, first_of_july)
    # Two taken at the same moment: the highest id is the last
    _snapshot(user, datetime(2025, 12, 31, 12, tzinfo=UTC))
    same_moment = _snapshot(user, datetime(2025, 12, 31, 12, tzinfo=UTC), score=700)
    table = training_table(as_of=AS_OF)
    assert april not in table.snapshot_ids.tolist()
    assert table.snapshot_ids.tolist() == [same_moment, june, july]
    assert table.scores.tolist() == [700, 600, 600]
    assert table.taken_at.tolist() == sorted(table.taken_at.tolist())


@pytest.mark.django_db
def test_only_active_citizens_are_read():
    citizen = _citizen()
    for user in (
        citizen,
        _citizen(is_staff=True),
        _citizen(is_superuser=True),
        _citizen(is_active=False),
    ):
        _snapshot(user, TAKEN)
    assert training_table(as_of=AS_OF).account_ids.tolist() == [citizen.pk]


@pytest.mark.django_db
def test_an_old_snapshot_without_no_shows_24m_reads_those_of_12_months():
    user = _citizen()
    stored = Features(1, 400, 0, 0, 0, 1, 2, 0, 0, 3, 0).as_dict()
    del stored["no_shows_24m"]
    _snapshot(user, TAKEN, features=stored)
    table = training_table(as_of=AS_OF)
    assert table.features_rows() == [Features.from_dict(stored)]
    assert table.fact("no_shows_12m").tolist() == [2.0]
    assert table.fact("stays_completed_well_24m").tolist() == [33.0]  # 1 of 3 stays


@pytest.mark.django_db
def test_progress_is_reported_per_range_of_accounts():
    users = [_citizen() for _ in range(5)]
    for user in users:
        _snapshot(user, TAKEN)
    reports: list[tuple[int, str]] = []
    table = training_table(
        as_of=AS_OF, chunk_size=2, progress=lambda pct, note: reports.append((pct, note))
    )
    assert len(table) == 5
    assert [pct for pct, _ in reports] == [33, 66, 100]
    assert reports[-1][1] == "read 5 snapshots"


@pytest.mark.django_db
def test_nothing_to_read_is_an_empty_table():
    table = training_table(as_of=AS_OF)
    assert len(table) == 0
    assert table.features.shape == (0, len(Features._fields))
    assert table.facts_frame(("no_shows_12m",)).shape == (0, 1)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_settings_of_a_callers_transaction_are_left_as_they_were():
    _snapshot(_citizen(), TAKEN)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('statement_timeout')")
        before = cursor.fetchone()
        assert len(training_table(as_of=AS_OF)) == 1
        cursor.execute("SELECT current_setting('jit'), current_setting('statement_timeout')")
        assert cursor.fetchone() == before

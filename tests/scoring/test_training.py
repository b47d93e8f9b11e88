"""The training table's set-based SQL, checked against a plain Python computation of the
same rows over random histories, and its edges one by one (on the test database: SQLite
locally, PostgreSQL in CI). Time is pinned: every moment is relative to ``AS_OF``."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import transaction
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
    return Scorecard.objects.order_by("pk").values_list("pk", flat=True).first()


@dataclass(frozen=True)
class PlannedSnapshot:
    at: datetime
    score: int
    features: dict[str, int]  # as stored (an old one lacks ``no_shows_24m``)


@dataclass(frozen=True)
class PlannedEvent:
    kind: str
    at: datetime
    status: str
    settled_at: datetime | None


def _stored(values: list[int], old: bool) -> dict[str, int]:
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
def planned_history(draw: st.DrawFn) -> tuple[dict[str, bool], list[PlannedSnapshot], list]:
    flags = {
        "is_active": draw(st.sampled_from([True] * 5 + [False])),
        "is_staff": draw(st.sampled_from([False] * 5 + [True])),
        "is_superuser": draw(st.sampled_from([False] * 7 + [True])),
    }
    snapshots = draw(st.lists(planned_snapshots, max_size=10))
    events = []
    for _ in range(draw(st.integers(0, 10))):
        if snapshots and draw(st.booleans()):  # on an edge of a snapshot's window
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
    user = UserFactory(**flags)
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

"""The set-based feature query, checked against a plain Python computation over random
event histories (on the test database: SQLite locally, PostgreSQL in CI)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import selectors
from scoring.facts import EVENT_WINDOW_DAYS, EventKinds, Features
from scoring.models import CreditEvent, EventStatus
from tests.factories import UserFactory

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KINDS = sorted(EVENT_WINDOW_DAYS)


@dataclass(frozen=True)
class PlannedEvent:
    kind: str
    days_ago: float
    status: str
    settled_days_ago: float | None  # None: never settled

    def occurred_at(self) -> datetime:
        return AT - timedelta(days=self.days_ago)

    def counts(self) -> bool:
        """Plain Python, written from the rules rather than from the query."""
        return self.within(EVENT_WINDOW_DAYS[self.kind])

    def within(self, window_days: int) -> bool:
        """Whether it counts at AT with a window of ``window_days``."""
        occurred = self.occurred_at()
        settled = (
            None if self.settled_days_ago is None else AT - timedelta(days=self.settled_days_ago)
        )
        ends = occurred + timedelta(days=window_days)
        return (
            # A disputed record counts until its dispute removes it
            self.status in (EventStatus.ACTIVE, EventStatus.DISPUTED)
            and occurred <= AT < ends
            and (settled is None or settled > AT)
        )


planned_events = st.builds(
    PlannedEvent,
    kind=st.sampled_from(KINDS),
    # Some land exactly on a window's edge, some after AT (not yet happened).
    days_ago=st.one_of(
        st.floats(-3, 900, allow_nan=False),
        st.sampled_from([0, 365, 730, 364.999, 729.999, -0.001]),
    ),
    status=st.sampled_from([EventStatus.ACTIVE] * 4 + [EventStatus.DISPUTED, EventStatus.REMOVED]),
    settled_days_ago=st.one_of(st.none(), st.floats(-5, 900, allow_nan=False)),
)
histories = st.lists(
    st.tuples(
        st.integers(0, 2),  # identity level
        st.floats(-1, 2_000, allow_nan=False),  # days since joining
        st.lists(planned_events, max_size=14),
    ),
    min_size=1,
    max_size=4,
)


def expected_features(level: int, joined_days_ago: float, events: list[PlannedEvent]) -> Features:
    counting = [event for event in events if event.counts()]
    late_kinds = {EventKinds.BILL_PAID_LATE, EventKinds.BILL_OVERDUE}

    def count(kinds: set[str], within_days: int | None = None) -> int:
        return sum(
            1
            for event in counting
            if event.kind in kinds and (within_days is None or event.days_ago < within_days)
        )

    joined = AT - timedelta(days=joined_days_ago)
    return Features(
        identity_level=level,
        account_age_days=max((AT - joined).days, 0),
        on_time_payments_12m=count({EventKinds.BILL_PAID_ON_TIME}),
        late_payments_12m=count(late_kinds, within_days=365),
        late_payments_24m=count(late_kinds),
        bookings_completed=count({EventKinds.BOOKING_COMPLETED}),
        no_shows_12m=count({EventKinds.NO_SHOW}),
        unpaid_claims=count({EventKinds.CLAIM_UNPAID}),
        open_disputes=sum(1 for event in events if event.status == EventStatus.DISPUTED),
        history_events=len(counting),
        # Counted as the others over 24 months, whatever the no-show's own window.
        no_shows_24m=sum(
            1 for event in events if event.kind == EventKinds.NO_SHOW and event.within(730)
        ),
    )


@pytest.mark.django_db
@given(history=histories)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_feature_query_matches_a_plain_python_computation(history):
    # Given a few accounts with random histories (windows' edges, disputes, settlements)
    users, expected = [], {}
    for level, joined_days_ago, events in history:
        user = UserFactory(identity_level=level, date_joined=AT - timedelta(days=joined_days_ago))
        users.append(user)
        expected[user.pk] = expected_features(level, joined_days_ago, events)
        CreditEvent.objects.bulk_create(
            CreditEvent(
                account=user,
                kind=event.kind,
                occurred_at=event.occurred_at(),
                counts_until=event.occurred_at() + timedelta(days=EVENT_WINDOW_DAYS[event.kind]),
                source=f"planned:{index}",
                status=event.status,
                settled_at=None
                if event.settled_days_ago is None
                else AT - timedelta(days=event.settled_days_ago),
            )
            for index, event in enumerate(events)
        )
    # When the features of all of them are computed at once, and of each alone
    together = dict(
        selectors.features_for_accounts(first_id=users[0].pk, last_id=users[-1].pk, at=AT)
    )
    alone = {
        user.pk: selectors.features_for_accounts(first_id=user.pk, last_id=user.pk, at=AT)[0][1]
        for user in users
    }
    # Then both equal the plain computation
    assert together == expected
    assert alone == expected


@pytest.mark.django_db
def test_inactive_accounts_have_no_features():
    user = UserFactory(is_active=False)
    assert selectors.features_for_accounts(first_id=user.pk, last_id=user.pk, at=AT) == []

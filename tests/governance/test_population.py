"""The audited population: the 90-day average balance against a hand computation on a
pinned clock, the groups, the outcomes, and who is in it."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import time_machine
from django.utils import timezone

from governance.models import MonitoringAttributes
from governance.population import (
    OUTCOME_WINDOW_DAYS,
    account_age_band,
    population_load,
    quintiles,
)
from scoring import selectors, services
from scoring.facts import EventKinds, Features
from scoring.models import ScoreSnapshot, SnapshotTrigger
from tests.factories import SettlementAccountFactory
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import IdentityLevel

pytestmark = pytest.mark.django_db

T = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
PASSWORD = "correct-horse-battery"


def _at(moment: datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def test_ninety_day_average_balance_by_hand():
    """Balances: 10,000 in long before the window, 5,000 more 30 days and an hour
    before, 2,000 paid out 10 and a half days before. The balance at ``T`` and at the
    same time on each of the 89 days before: 13,000 on 11 of them (0..10 days back),
    15,000 on 20 (11..30), 10,000 on 59 (31..89): a mean of 1,033,000 / 90."""
    with _at(T - timedelta(days=400)):
        saver = wallet_services.user_register(username="saver", password=PASSWORD)
        empty = wallet_services.user_register(username="empty", password=PASSWORD)
        newcomer_joined = T - timedelta(days=5)
        shop = SettlementAccountFactory.create()
    with _at(T - timedelta(days=100)):
        top_up_paid(saver, 10_000)
    with _at(T - timedelta(days=30, hours=1)):
        top_up_paid(saver, 5_000)
    with _at(T - timedelta(days=10, hours=12)):
        wallet_services.payment_create(user=saver, destination=shop, amount=2_000)
    with _at(newcomer_joined):
        newcomer = wallet_services.user_register(username="newcomer", password=PASSWORD)
        top_up_paid(newcomer, 9_000)
    with _at(T + timedelta(days=1)):  # after the moment: not counted
        top_up_paid(empty, 50_000)

    population = population_load(at=T)

    average = dict(
        zip(population.account_ids.tolist(), population.balance_average.tolist(), strict=True)
    )
    assert average[saver.pk] == pytest.approx(1_033_000 / 90)
    assert average[empty.pk] == 0
    # Topped up exactly 5 days before: in the balances 0..5 days back (a balance at a
    # moment includes what was booked at that moment), 0 in the 84 before it opened.
    assert average[newcomer.pk] == pytest.approx(9_000 * 6 / 90)


def test_groups_and_outcomes():
    now = timezone.now()
    old = wallet_services.user_register(username="old", password=PASSWORD)
    old.date_joined = now - timedelta(days=800)
    old.save(update_fields=["date_joined"])
    young = wallet_services.user_register(username="young", password=PASSWORD)
    wallet_services.user_identity_level_set(user=young, level=IdentityLevel.DOCUMENT)
    staff = wallet_services.staff_user_ensure(username="root", password="staff-password-123")
    gone = wallet_services.user_register(username="gone", password=PASSWORD)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    MonitoringAttributes.objects.create(
        user=old, age_band="45-54", sex="", volunteered_at=now, updated_at=now
    )
    services.record_event(
        account=old,
        kind=EventKinds.NO_SHOW,
        occurred_at=now - timedelta(days=10),
        source="t:1",
    )
    services.record_event(
        account=young,
        kind=EventKinds.BOOKING_COMPLETED,
        occurred_at=now - timedelta(days=20),
        source="t:2",
    )
    # Out of the outcome window: not known.
    services.record_event(
        account=young,
        kind=EventKinds.CLAIM_UNPAID,
        occurred_at=now - timedelta(days=OUTCOME_WINDOW_DAYS + 5),
        source="t:3",
        amount=100,
    )

    population = population_load(at=now)

    ids = population.account_ids.tolist()
    assert ids == sorted([old.pk, young.pk])  # no staff, no inactive account
    assert staff.pk not in ids
    assert gone.pk not in ids
    row = {pk: index for index, pk in enumerate(ids)}
    o, y = row[old.pk], row[young.pk]
    assert [population.group_keys("identity_level")[i] for i in (o, y)] == ["0", "2"]
    assert [population.group_keys("account_age_band")[i] for i in (o, y)] == ["2y+", "<90d"]
    assert [population.group_keys("age_band")[i] for i in (o, y)] == ["45-54", None]
    assert [population.group_keys("sex")[i] for i in (o, y)] == [None, None]
    assert population.outcome_known[[o, y]].tolist() == [True, True]
    assert population.had_no_show[[o, y]].tolist() == [True, False]
    assert population.had_unpaid_claim[[o, y]].tolist() == [False, False]
    features = population.features_rows()
    assert features[o].no_shows_12m == 1
    assert features[y].bookings_completed == 1


def test_live_population_reads_the_current_snapshots():
    """Accounts whose current snapshot the active scorecard made are read from it (its
    score, points and features, as merchants read them); the others are computed."""
    citizen = wallet_services.user_register(username="scored", password=PASSWORD)
    never = wallet_services.user_register(username="never", password=PASSWORD)
    services.record_event(
        account=citizen,
        kind=EventKinds.BOOKING_COMPLETED,
        occurred_at=timezone.now() - timedelta(days=3),
        source="t:1",
    )
    services.score_recompute(account_id=citizen.pk, trigger=SnapshotTrigger.MANUAL)
    snapshot = selectors.score_current(account=citizen)
    assert snapshot is not None
    active = selectors.scorecard_active()

    population = population_load(scores_of=active)

    row = {pk: index for index, pk in enumerate(population.account_ids.tolist())}
    assert population.scored_by == active.pk
    assert not population.scored[row[never.pk]]
    index = row[citizen.pk]
    assert population.scored[index]
    assert population.scores[index] == snapshot.score
    assert population.points[index].tolist() == [
        snapshot.points[key] for key in population.points_keys
    ]
    assert population.features_rows()[index].bookings_completed == 1


def test_quintiles_are_ntile_by_average_then_id():
    weighted = np.array([5, 0, 0, 3, 9, 1, 1])
    ids = np.array([10, 11, 12, 13, 14, 15, 16])
    # Ordered: 11(0), 12(0), 15(1), 16(1), 13(3), 10(5), 14(9); NTILE(5) of 7: 2,2,1,1,1.
    assert quintiles(weighted, ids).tolist() == [3, 0, 0, 2, 4, 1, 1]


@pytest.mark.parametrize(
    ("days", "band"),
    [(0, "<90d"), (89, "<90d"), (90, "90d-1y"), (364, "90d-1y"), (365, "1-2y"), (730, "2y+")],
)
def test_account_age_bands(days, band):
    assert account_age_band(days) == band


def test_a_snapshot_older_than_a_feature_reads_its_stand_in():
    """A snapshot stored before ``no_shows_24m`` existed lacks it: the audit reads its
    12-month no-shows in its place, as ``Features.from_dict`` does."""
    citizen = wallet_services.user_register(username="older", password=PASSWORD)
    services.record_event(
        account=citizen,
        kind=EventKinds.NO_SHOW,
        occurred_at=timezone.now() - timedelta(days=3),
        source="t:older",
    )
    services.score_recompute(account_id=citizen.pk, trigger=SnapshotTrigger.MANUAL)
    current = selectors.score_current(account=citizen)
    assert current is not None
    stored = dict(current.features)
    del stored["no_shows_24m"]
    # The same score, as a snapshot of the earlier release stored it (written later, so
    # it is the current one)
    ScoreSnapshot.objects.create(
        account=citizen,
        scorecard=current.scorecard,
        score=current.score,
        band=current.band,
        points=current.points,
        reasons=current.reasons,
        features=stored,
        fingerprint=current.fingerprint,
        trigger=SnapshotTrigger.MANUAL,
        computed_at=current.computed_at + timedelta(seconds=1),
    )

    population = population_load(scores_of=selectors.scorecard_active())

    index = population.account_ids.tolist().index(citizen.pk)
    assert population.scored[index]
    row = population.features_rows()[index]
    assert (row.no_shows_12m, row.no_shows_24m) == (1, 1)
    assert Features.from_dict(stored).no_shows_24m == 1

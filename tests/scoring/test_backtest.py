"""The backtest: today's population under the active scorecard and under a candidate,
with exact figures on a small population, and nothing written."""

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from scoring import selectors, services
from scoring.backtest import (
    BUCKET_STARTS,
    CountRow,
    MovementRow,
    bucket_index,
    bucket_label,
    scorecard_backtest,
)
from scoring.facts import EventKinds
from scoring.models import Scorecard, ScoreSnapshot
from wallet.models import IdentityLevel
from wallet.services import user_identity_level_set, user_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(django_capture_on_commit_callbacks):
    """Three citizens whose scores under the default scorecard (v1) are known:

    - thin: a new account, nothing verified, no history: 400 + 60 + 40 + 60 = 560 (fair)
    - no_show: the same with one no-show: 400 + 60 + 10 + 60 = 530 (poor)
    - reliable: document verified, 3 bills on time, 1 booking:
      400 + 120 + 60 + 20 + 40 + 60 + 60 = 760 (excellent)
    """
    now = timezone.now()
    thin = user_register(username="thin", password="correct-horse-battery")
    no_show = user_register(username="noshow", password="correct-horse-battery")
    reliable = user_register(username="reliable", password="correct-horse-battery")
    user_identity_level_set(user=reliable, level=IdentityLevel.DOCUMENT)
    events = [
        (no_show, EventKinds.NO_SHOW, 3),
        (reliable, EventKinds.BILL_PAID_ON_TIME, 10),
        (reliable, EventKinds.BILL_PAID_ON_TIME, 40),
        (reliable, EventKinds.BILL_PAID_ON_TIME, 70),
        (reliable, EventKinds.BOOKING_COMPLETED, 20),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for index, (user, kind, days_ago) in enumerate(events):
            services.record_event(
                account=user,
                kind=kind,
                occurred_at=now - timedelta(days=days_ago),
                source=f"test:{index}",
            )
    return {"thin": thin, "no_show": no_show, "reliable": reliable}


@pytest.fixture
def plus_fifty() -> Scorecard:
    """A draft: the default scorecard with 50 more base points."""
    definition = copy.deepcopy(selectors.scorecard_active().definition)
    definition["base_points"] += 50
    return services.scorecard_draft_create(name="Plus fifty", definition=definition)


def test_bucket_edges():
    assert len(BUCKET_STARTS) == 12
    assert [bucket_label(start) for start in (BUCKET_STARTS[0], BUCKET_STARTS[-1])] == [
        "350-399",
        "900-950",
    ]
    assert [bucket_index(score) for score in (350, 399, 400, 899, 900, 950)] == [
        0,
        0,
        1,
        10,
        11,
        11,
    ]


def test_a_draft_with_fifty_more_base_points_moves_every_score_by_fifty(population, plus_fifty):
    # Given three citizens at 560 (fair), 530 (poor) and 760 (excellent) under v1,
    # whose current scores are already stored
    snapshots = ScoreSnapshot.objects.count()
    assert snapshots == 2  # the two with events; the thin file was never looked at
    # When the draft with 50 more base points is backtested
    result = scorecard_backtest(candidate=plus_fifty, at=timezone.now())
    # Then every score is 50 higher: 610 (good), 580 (fair) and 810 (excellent)
    assert (result.active_version, result.candidate_version, result.accounts) == (1, 2, 3)
    assert result.bands == (
        CountRow("Poor", active=1, candidate=0),
        CountRow("Fair", active=1, candidate=1),
        CountRow("Good", active=0, candidate=1),
        CountRow("Very good", active=0, candidate=0),
        CountRow("Excellent", active=1, candidate=1),
    )
    assert [(row.label, row.active, row.candidate) for row in result.buckets] == [
        ("350-399", 0, 0),
        ("400-449", 0, 0),
        ("450-499", 0, 0),
        ("500-549", 1, 0),
        ("550-599", 1, 1),
        ("600-649", 0, 1),
        ("650-699", 0, 0),
        ("700-749", 0, 0),
        ("750-799", 1, 0),
        ("800-849", 0, 1),
        ("850-899", 0, 0),
        ("900-950", 0, 0),
    ]
    assert result.movement == (
        MovementRow("poor", "Poor", counts=(0, 1, 0, 0, 0), total=1),
        MovementRow("fair", "Fair", counts=(0, 0, 1, 0, 0), total=1),
        MovementRow("good", "Good", counts=(0, 0, 0, 0, 0), total=0),
        MovementRow("very_good", "Very good", counts=(0, 0, 0, 0, 0), total=0),
        MovementRow("excellent", "Excellent", counts=(0, 0, 0, 0, 1), total=1),
    )
    assert (result.mean_active, result.mean_candidate) == (616.7, 666.7)  # 1850/3, 2000/3
    assert (result.moved_up, result.moved_down, result.score_changed) == (2, 0, 3)
    # And nothing was written
    assert ScoreSnapshot.objects.count() == snapshots
    assert Scorecard.objects.get(pk=plus_fifty.pk).status == "draft"


def test_chunks_of_one_account_give_the_same_figures(population, plus_fifty):
    # Given the same moment
    at = timezone.now()
    # When the backtest reads one account per chunk, and all in one chunk
    one_by_one = scorecard_backtest(candidate=plus_fifty, at=at, chunk_size=1)
    all_at_once = scorecard_backtest(candidate=plus_fifty, at=at, chunk_size=1000)
    # Then the figures are the same
    assert one_by_one == all_at_once


def test_the_active_version_against_itself_moves_nobody(population):
    # When the active scorecard is backtested against itself
    result = scorecard_backtest(candidate=selectors.scorecard_active())
    # Then every account stays where it is
    assert [row.counts for row in result.movement] == [
        (1, 0, 0, 0, 0),
        (0, 1, 0, 0, 0),
        (0, 0, 0, 0, 0),
        (0, 0, 0, 0, 0),
        (0, 0, 0, 0, 1),
    ]
    assert result.mean_active == result.mean_candidate == 616.7
    assert (result.moved_up, result.moved_down, result.score_changed) == (0, 0, 0)


def test_events_in_the_future_of_the_backtest_moment_do_not_count(population, plus_fifty):
    # Given a moment before the no-show happened (3 days ago)
    at = timezone.now() - timedelta(days=5)
    # When the backtest is run as of then
    result = scorecard_backtest(candidate=plus_fifty, at=at)
    # Then the no-show citizen is still a thin file at 560 (fair) under v1
    assert [(row.label, row.active) for row in result.bands] == [
        ("Poor", 0),
        ("Fair", 2),
        ("Good", 0),
        ("Very good", 0),
        ("Excellent", 1),
    ]


def test_an_empty_population_has_no_mean(plus_fifty):
    # Given no account at all
    # When the draft is backtested
    result = scorecard_backtest(candidate=plus_fifty)
    # Then there are no figures, and no mean
    assert result.accounts == 0
    assert (result.mean_active, result.mean_candidate) == (None, None)
    assert all(row.total == 0 for row in result.movement)

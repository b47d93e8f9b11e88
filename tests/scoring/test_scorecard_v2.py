"""Scorecard version 2 (the draft of migration 0016) and the fact it scores: the share of
stays completed well over 24 months."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps as django_apps
from hypothesis import given, settings

from scoring import selectors
from scoring.facts import (
    EVENT_FACTS,
    FACTS,
    MIN_STAYS_FOR_SHARE,
    EventKinds,
    Features,
    stays_well_share,
)
from scoring.models import CreditEvent, Scorecard, ScorecardStatus
from scoring.scorecard import THIN_FILE_CODE, ScorecardInvalid, definition_errors, simulate
from scoring.scorecard import Scorecard as CompiledScorecard
from tests.factories import UserFactory
from tests.scoring.test_scorecard import V1, any_features, features, improvements

MIGRATION = importlib.import_module("scoring.migrations.0016_scorecard_v2_draft")
DEFAULT_V2 = MIGRATION.DEFAULT_V2
V2 = CompiledScorecard.from_definition(DEFAULT_V2, version=2)
SHARE = "stays_completed_well"


def points_of(card: CompiledScorecard, values: Features, key: str) -> int:
    return dict(zip(card.factor_keys, card.points(values), strict=True))[key]


# --- The fact --------------------------------------------------------------------------


def test_the_share_is_of_stays_ended_well_and_absent_below_the_minimum():
    assert MIN_STAYS_FOR_SHARE == 2
    assert stays_well_share(0, 0, 0) is None
    assert stays_well_share(1, 0, 0) is None  # one stay says too little
    assert stays_well_share(0, 1, 0) is None
    assert stays_well_share(2, 0, 0) == 100
    assert stays_well_share(1, 1, 0) == 50
    assert stays_well_share(2, 0, 1) == 66  # whole percent, rounded down
    assert stays_well_share(0, 1, 1) == 0
    fact = FACTS["stays_completed_well_24m"]
    assert (fact.kind, fact.minimum, fact.maximum, fact.optional) == ("percent", 0, 100, True)
    assert fact.higher_is_better
    assert fact.scorable


def test_every_kind_of_stay_record_feeds_the_share():
    for kind in (
        EventKinds.BOOKING_COMPLETED,
        EventKinds.NO_SHOW,
        EventKinds.CLAIM_PAID,
        EventKinds.CLAIM_UNPAID,
    ):
        assert "stays_completed_well_24m" in EVENT_FACTS[kind]


def test_the_features_hold_the_share_and_an_older_snapshots_features_still_load():
    values = features(bookings_completed=3, no_shows_12m=1, no_shows_24m=2, history_events=4)
    stored = values.as_dict()
    assert stored["stays_completed_well_24m"] == 60
    assert Features.from_dict(stored) == values
    # A snapshot stored before the 24-month no-shows: those of 12 months at least
    older = {key: value for key, value in stored.items() if key != "no_shows_24m"}
    assert Features.from_dict(older).no_shows_24m == 1


AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_no_show_of_18_months_ago_counts_in_the_share_but_not_in_the_12_month_count():
    user = UserFactory(identity_level=1, date_joined=AT - timedelta(days=900))
    for index, (kind, days_ago) in enumerate(
        [
            (EventKinds.BOOKING_COMPLETED, 30),
            (EventKinds.BOOKING_COMPLETED, 400),
            (EventKinds.NO_SHOW, 540),
            (EventKinds.NO_SHOW, 800),  # older than 24 months: not at all
        ]
    ):
        occurred = AT - timedelta(days=days_ago)
        window = 365 if kind == EventKinds.NO_SHOW else 730
        CreditEvent.objects.create(
            account=user,
            kind=kind,
            occurred_at=occurred,
            counts_until=occurred + timedelta(days=window),
            source=f"test:{index}",
        )
    [(_, values)] = selectors.features_for_accounts(first_id=user.pk, last_id=user.pk, at=AT)
    assert (values.bookings_completed, values.no_shows_12m, values.no_shows_24m) == (2, 0, 1)
    assert values.stays_completed_well_24m == 66


def test_completing_bookings_raises_the_share_and_settling_claims_takes_their_stays_out():
    values = features(bookings_completed=1, no_shows_12m=1, no_shows_24m=1, history_events=2)
    assert values.stays_completed_well_24m == 50
    assert simulate(values, {"complete_next_bookings": 2}).stays_completed_well_24m == 75
    claimed = features(bookings_completed=2, unpaid_claims=2, history_events=4)
    assert claimed.stays_completed_well_24m == 50
    assert simulate(claimed, {"settle_unpaid_claims": 1}).stays_completed_well_24m == 66
    # No-shows of 12 months are no-shows of 24 months too
    assert simulate(values, {"no_shows_12m": 3}).no_shows_24m == 3
    assert simulate(values, {"no_shows_12m": 0}).no_shows_24m == 1


# --- Version 2 -------------------------------------------------------------------------


def test_v2_is_valid_and_is_v1_with_the_share_in_place_of_the_count():
    assert definition_errors(DEFAULT_V2) == []
    v1_keys = list(V1.factor_keys)
    assert list(V2.factor_keys) == [
        SHARE if key == "bookings_completed" else key for key in v1_keys
    ]
    share = V2.factors[V2.factor_keys.index(SHARE)]
    assert share.fact == "stays_completed_well_24m"
    assert share.history is True
    for mine, theirs in zip(V2.factors, V1.factors, strict=True):
        if mine.key != SHARE:
            assert mine == theirs


@pytest.mark.django_db
def test_the_migration_makes_v2_a_draft_by_the_system_next_to_the_active_v1():
    # (The suite's database sets the system's draft aside: tests/conftest.py.) When the
    # migration runs on a database with version 1 alone
    assert not Scorecard.objects.filter(name=MIGRATION.NAME).exists()
    MIGRATION.create_v2_draft(django_apps, None)
    MIGRATION.create_v2_draft(django_apps, None)  # once only
    # Then version 2 is a draft of the system's, with its notes; version 1 stays active
    draft = Scorecard.objects.get(name=MIGRATION.NAME)
    assert draft.version == 2
    assert draft.status == ScorecardStatus.DRAFT
    assert draft.definition == DEFAULT_V2
    assert draft.created_by is None
    assert draft.activated_at is None
    assert "wealth" in draft.notes
    assert Scorecard.objects.get(status=ScorecardStatus.ACTIVE).version == 1


def test_a_thin_file_starts_where_it_did_and_says_its_history_is_short():
    for level in (0, 1, 2):
        thin = features(identity_level=level)
        assert V2.evaluate(thin).score == V1.evaluate(thin).score
    result = V2.evaluate(features(identity_level=1))
    assert result.score == 600
    assert points_of(V2, features(identity_level=1), SHARE) == 50
    codes = [reason.code for reason in result.reasons]
    assert THIN_FILE_CODE in codes
    assert SHARE not in codes


def test_fewer_stays_than_the_minimum_earn_what_a_share_of_half_does():
    one_stay = features(on_time_payments_12m=10, bookings_completed=1, history_events=11)
    assert one_stay.stays_completed_well_24m is None
    assert points_of(V2, one_stay, SHARE) == 50
    one_no_show = one_stay._replace(bookings_completed=0, no_shows_12m=1, no_shows_24m=1)
    assert points_of(V2, one_no_show, SHARE) == 50
    result = V2.evaluate(one_stay)
    assert next(r for r in result.reasons if r.code == SHARE).points_lost == 10


@pytest.mark.parametrize(
    ("completed", "no_shows", "unpaid", "points"),
    [(2, 0, 0, 60), (9, 1, 0, 50), (3, 1, 0, 50), (1, 1, 0, 50), (1, 2, 1, 0), (0, 2, 0, 0)],
)
def test_the_share_earns_its_bins(completed, no_shows, unpaid, points):
    values = features(
        bookings_completed=completed,
        no_shows_12m=no_shows,
        no_shows_24m=no_shows,
        unpaid_claims=unpaid,
        history_events=completed + no_shows + unpaid,
    )
    assert points_of(V2, values, SHARE) == points


def test_how_many_stays_someone_can_afford_does_not_change_the_score():
    # Two residents alike but for how often they travel, every stay completed well
    few = features(account_age_days=800, on_time_payments_12m=12, history_events=14)
    few = few._replace(bookings_completed=2)
    many = few._replace(bookings_completed=9, history_events=21)
    assert V2.evaluate(few).score == V2.evaluate(many).score
    assert V1.evaluate(few).score < V1.evaluate(many).score


@given(values=any_features())
@settings(max_examples=500)
def test_improving_any_one_fact_never_lowers_the_v2_score(values):
    score = V2.evaluate(values).score
    for better in improvements(values):
        assert V2.evaluate(better).score >= score, better


def test_missing_points_of_the_share_must_be_those_of_a_half():
    wrong = {
        **DEFAULT_V2,
        "factors": [
            {**factor, "missing_points": 60} if factor["key"] == SHARE else factor
            for factor in DEFAULT_V2["factors"]
        ],
    }
    with pytest.raises(ScorecardInvalid, match="missing_points must be 50"):
        CompiledScorecard.from_definition(wrong)

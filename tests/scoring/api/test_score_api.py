"""/me/score, /me/score/history, /me/score/simulate, /me/events, /me/disputes and
/me/access-log through the HTTP API.

The numbers come from scorecard v1 (scoring/migrations/0002): base 400; on-time share
none 0 | 50%: 30 | 80%: 60 | 90%: 90 | 98%: 120; late payments 0: 60 | 1: 35 | 2: 15;
bookings 0: 0 | 1: 20 | 3: 40 | 6: 60; no-shows 0: 40 | 1: 10; unpaid claims 0: 60 |
1: -280 | 2: -400; account age 0: 0 (every account here is new); identity 0 | 40 | 60.
"""

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scoring import services
from scoring.models import (
    AccessLogEntry,
    CreditEvent,
    Dispute,
    EventStatus,
    ScoreSnapshot,
)
from scoring.purposes import AccessPurpose, Purpose
from tests.conftest import client_for
from wallet.models import IdentityLevel, User
from wallet.services import user_identity_level_set

SCORE = "/api/v1/me/score"
HISTORY = "/api/v1/me/score/history"
SIMULATE = "/api/v1/me/score/simulate"
EVENTS = "/api/v1/me/events"
DISPUTES = "/api/v1/me/disputes"
ACCESS_LOG = "/api/v1/me/access-log"

THIN_FILE_LABEL = "Your credit history is short"

pytestmark = pytest.mark.django_db

_sources = itertools.count(1)


def iso(moment: datetime) -> str:
    """How the API writes a time (UTC, with a Z)."""
    return moment.isoformat().replace("+00:00", "Z")


def scoring_counts() -> tuple[int, int, int, int]:
    return (
        ScoreSnapshot.objects.count(),
        CreditEvent.objects.count(),
        Dispute.objects.count(),
        AccessLogEntry.objects.count(),
    )


def writes_in(queries: CaptureQueriesContext) -> list[str]:
    """The statements of ``queries`` that change data."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "COPY"))
    ]


def reason_points(body: dict) -> list[tuple[str, int]]:
    return [(reason["code"], reason["points_lost"]) for reason in body["reasons"]]


@pytest.fixture
def record(django_capture_on_commit_callbacks) -> Callable[..., CreditEvent]:
    """Record a credit event ``days_ago`` days back and run the recompute it schedules."""

    def record_event(account: User, kind: str, *, days_ago: float = 1, **extra) -> CreditEvent:
        extra.setdefault("source", f"test:{kind}:{next(_sources)}")
        with django_capture_on_commit_callbacks(execute=True):
            return services.record_event(
                account=account,
                kind=kind,
                occurred_at=timezone.now() - timedelta(days=days_ago),
                **extra,
            )

    return record_event


@pytest.fixture
def claim_file(citizen, record) -> CreditEvent:
    """A document-verified citizen whose only negative is one unpaid claim.

    Three bills paid on time (120), no late payment (60), three bookings (40), no
    no-show (40), one unpaid claim (-280), new account (0), document (60):
    400 + 40 = 440, poor. Without the claim: 440 + 340 = 780, excellent.
    """
    user_identity_level_set(user=citizen, level=IdentityLevel.DOCUMENT)
    for days_ago in (30, 60, 90):
        record(citizen, "bill_paid_on_time", days_ago=days_ago)
    for days_ago in (20, 40, 80):
        record(citizen, "booking_completed", days_ago=days_ago)
    return record(
        citizen,
        "claim_unpaid",
        days_ago=10,
        amount=30_000,
        currency="CNY",
        subject="claim:1",
        description="Broken lamp",
    )


# --- /me/score ---------------------------------------------------------------------------


def test_score_of_a_new_citizen_is_the_thin_file_score(citizen_api, citizen):
    # Given a citizen with no events and no snapshot
    assert ScoreSnapshot.objects.count() == 0
    # When
    response = citizen_api.get(SCORE)
    # Then 400 + no late payment 60 + no no-show 40 + no unpaid claim 60 = 560
    assert response.status_code == 200
    body = response.json()
    snapshot = ScoreSnapshot.objects.get()
    assert body["score"] == 560
    assert body["band"] == "fair"
    assert body["scorecard_version"] == 1
    assert body["previous_score"] is None
    assert body["computed_at"] == iso(snapshot.computed_at)
    assert body["factors"] == [
        {
            "key": "on_time_payments",
            "label": "Bills paid on time (12 months)",
            "fact": "on_time_ratio_12m",
            "value": None,
            "points": 0,
            "max_points": 120,
        },
        {
            "key": "late_payments",
            "label": "Late payments (24 months)",
            "fact": "late_payments_24m",
            "value": 0,
            "points": 60,
            "max_points": 60,
        },
        {
            "key": "bookings_completed",
            "label": "Bookings completed (24 months)",
            "fact": "bookings_completed",
            "value": 0,
            "points": 0,
            "max_points": 60,
        },
        {
            "key": "no_shows",
            "label": "No-shows (12 months)",
            "fact": "no_shows_12m",
            "value": 0,
            "points": 40,
            "max_points": 40,
        },
        {
            "key": "unpaid_claims",
            "label": "Unpaid claims",
            "fact": "unpaid_claims",
            "value": 0,
            "points": 60,
            "max_points": 60,
        },
        {
            "key": "account_age",
            "label": "Account age",
            "fact": "account_age_days",
            "value": 0,
            "points": 0,
            "max_points": 80,
        },
        {
            "key": "identity",
            "label": "Identity verification",
            "fact": "identity_level",
            "value": 0,
            "points": 0,
            "max_points": 60,
        },
    ]
    # the history factors fold into "history is short": on-time 120 + bookings 60
    assert reason_points(body) == [("thin_file", 180), ("account_age", 80), ("identity", 60)]
    thin = body["reasons"][0]
    assert thin["label"] == THIN_FILE_LABEL
    assert thin["tip"] != ""
    assert set(thin) == {"code", "label", "points_lost", "tip"}
    # and the first look wrote the "initial" snapshot
    assert (snapshot.account_id, snapshot.score, snapshot.trigger) == (citizen.pk, 560, "initial")


def test_score_of_a_phone_verified_new_citizen_is_600_good(citizen_api, citizen):
    # Given
    user_identity_level_set(user=citizen, level=IdentityLevel.PHONE)
    # When
    body = citizen_api.get(SCORE).json()
    # Then
    assert (body["score"], body["band"]) == (600, "good")
    assert body["factors"][-1]["value"] == 1
    assert body["factors"][-1]["points"] == 40
    assert reason_points(body) == [("thin_file", 180), ("account_age", 80), ("identity", 20)]


def test_the_account_age_reason_says_the_citizens_actual_age(citizen_api, citizen):
    # Given an account opened 800 days ago (phone verified, no history)
    User.objects.filter(pk=citizen.pk).update(date_joined=timezone.now() - timedelta(days=800))
    user_identity_level_set(user=citizen, level=IdentityLevel.PHONE)
    # When the citizen reads their score, and simulates a change
    body = citizen_api.get(SCORE).json()
    simulated = citizen_api.post(
        SIMULATE, {"changes": {"pay_next_bills_on_time": 1}}, format="json"
    ).json()
    # Then the reason says how long the account has been open, not that it is new
    age = "Your account has been open for 2 years: accounts gain points as they age"
    assert [(r["code"], r["label"], r["points_lost"]) for r in body["reasons"]][1] == (
        "account_age",
        age,
        20,
    )
    assert {r["label"] for r in simulated["reasons"] if r["code"] == "account_age"} == {age}


def test_score_reads_twice_write_one_snapshot(citizen_api, citizen):
    first = citizen_api.get(SCORE).json()
    again = citizen_api.get(SCORE).json()
    assert again == first
    assert ScoreSnapshot.objects.filter(account=citizen).count() == 1


def test_score_follows_recorded_events(citizen_api, citizen, django_capture_on_commit_callbacks):
    # Given a first look at the score
    assert citizen_api.get(SCORE).json()["score"] == 560
    # When three bills paid on time are recorded in one transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for days_ago in (5, 35, 65):
            services.record_event(
                account=citizen,
                kind="bill_paid_on_time",
                occurred_at=timezone.now() - timedelta(days=days_ago),
                source=f"bill:{days_ago}",
                amount=5_000,
                currency="CNY",
            )
    assert len(callbacks) == 3
    response = citizen_api.get(SCORE)
    # Then 400 + on-time 100% 120 + 60 + 0 + 40 + 60 + 0 + 0 = 680
    assert response.status_code == 200
    body = response.json()
    assert (body["score"], body["band"], body["previous_score"]) == (680, "very_good", 560)
    factors = {f["key"]: (f["value"], f["points"], f["max_points"]) for f in body["factors"]}
    assert factors == {
        "on_time_payments": (100, 120, 120),
        "late_payments": (0, 60, 60),
        "bookings_completed": (0, 0, 60),
        "no_shows": (0, 40, 40),
        "unpaid_claims": (0, 60, 60),
        "account_age": (0, 0, 80),
        "identity": (0, 0, 60),
    }
    # no longer a thin file: each lost factor speaks for itself, largest loss first
    assert reason_points(body) == [
        ("account_age", 80),
        ("bookings_completed", 60),
        ("identity", 60),
    ]
    assert body["reasons"][1]["label"] == "Few completed bookings so far"
    # one new snapshot for the three events (the later recomputes changed nothing)
    assert list(
        ScoreSnapshot.objects.filter(account=citizen)
        .order_by("computed_at", "id")
        .values_list("score", "trigger")
    ) == [(560, "initial"), (680, "event")]


def test_score_reasons_are_at_most_four_largest_loss_first(citizen_api, citizen, record):
    # Given a file losing points on six factors: one bill late (on-time 0%: lost 120;
    # late 1: lost 25), one no-show (lost 30), no bookings (60), new account (80), no
    # identity (60): 400 + 0 + 35 + 0 + 10 + 60 + 0 + 0 = 505
    record(citizen, "bill_paid_late", days_ago=3)
    record(citizen, "no_show", days_ago=4)
    # When
    body = citizen_api.get(SCORE).json()
    # Then
    assert (body["score"], body["band"]) == (505, "poor")
    assert reason_points(body) == [
        ("on_time_payments", 120),
        ("account_age", 80),
        ("bookings_completed", 60),
        ("identity", 60),
    ]


def test_score_of_the_best_file_with_one_unpaid_claim_is_poor(citizen_api, claim_file):
    body = citizen_api.get(SCORE).json()
    assert (body["score"], body["band"]) == (440, "poor")
    assert reason_points(body)[0] == ("unpaid_claims", 340)
    assert body["reasons"][0]["label"] == "You have an unpaid damage claim"


# --- /me/score/history -------------------------------------------------------------------


def test_history_is_paginated_newest_first_with_triggers(
    citizen_api, citizen, other_citizen, record
):
    # Given an initial snapshot, then one after an event; and another citizen's score
    citizen_api.get(SCORE)
    record(citizen, "bill_paid_on_time", days_ago=2)
    client_for(other_citizen).get(SCORE)
    # When
    response = citizen_api.get(HISTORY)
    # Then
    assert response.status_code == 200
    body = response.json()
    snapshots = list(ScoreSnapshot.objects.filter(account=citizen).order_by("-computed_at", "-id"))
    assert body == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "score": 680,
                "band": "very_good",
                "computed_at": iso(snapshots[0].computed_at),
                "trigger": "event",
                "scorecard_version": 1,
            },
            {
                "score": 560,
                "band": "fair",
                "computed_at": iso(snapshots[1].computed_at),
                "trigger": "initial",
                "scorecard_version": 1,
            },
        ],
    }


def test_history_pages_follow_next(citizen_api, citizen, record):
    # Given two snapshots
    citizen_api.get(SCORE)
    record(citizen, "bill_paid_on_time", days_ago=2)
    # When one per page
    first = citizen_api.get(HISTORY, {"page_size": 1}).json()
    second = citizen_api.get(first["next"]).json()
    # Then
    assert first["count"] == second["count"] == 2
    assert first["previous"] is None
    assert [s["trigger"] for s in first["results"]] == ["event"]
    assert second["next"] is None
    assert second["previous"] is not None
    assert [s["trigger"] for s in second["results"]] == ["initial"]


def test_history_of_a_citizen_who_never_looked_is_empty(citizen_api, citizen):
    body = citizen_api.get(HISTORY).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    assert ScoreSnapshot.objects.count() == 0


# --- /me/score/simulate ------------------------------------------------------------------


@pytest.fixture
def mixed_bills(citizen, citizen_api, record) -> None:
    """A phone-verified citizen with one bill on time and one late in 12 months:
    on-time 50% 30, late 1 35, bookings 0, no-show 40, unpaid 60, age 0, phone 40 = 605."""
    user_identity_level_set(user=citizen, level=IdentityLevel.PHONE)
    record(citizen, "bill_paid_on_time", days_ago=20)
    record(citizen, "bill_paid_late", days_ago=50)
    assert citizen_api.get(SCORE).json()["score"] == 605


@pytest.mark.parametrize(
    ("changes", "score", "band", "delta"),
    [
        # 4 of 5 on time: 80% gives 60 in place of 30
        ({"pay_next_bills_on_time": 3}, 635, "good", 30),
        # 10 of 11 on time: 90% gives 90
        ({"pay_next_bills_on_time": 9}, 665, "very_good", 60),
        ({"pay_next_bills_on_time": 0}, 605, "good", 0),
        ({"complete_next_bookings": 3}, 645, "good", 40),
        ({"identity_level": 2}, 625, "good", 20),
        # no late payment in 24 months means none in 12 either: on-time 100% too
        ({"late_payments_24m": 0}, 720, "excellent", 115),
        ({"on_time_ratio_12m": 100}, 695, "very_good", 90),
        ({"no_shows_12m": 2}, 565, "fair", -40),
        ({"account_age_days": 1_095}, 685, "very_good", 80),
        ({"pay_next_bills_on_time": 9, "identity_level": 2}, 685, "very_good", 80),
    ],
)
def test_simulate_answers_the_score_with_the_changes(
    citizen_api, mixed_bills, changes, score, band, delta
):
    # When
    response = citizen_api.post(SIMULATE, {"changes": changes}, format="json")
    # Then
    assert response.status_code == 200
    body = response.json()
    assert (body["score"], body["band"], body["current_score"], body["delta"]) == (
        score,
        band,
        605,
        delta,
    )
    assert len(body["reasons"]) <= 4


def test_simulate_answers_the_reasons_of_the_simulated_score(citizen_api, mixed_bills):
    body = citizen_api.post(
        SIMULATE, {"changes": {"pay_next_bills_on_time": 3}}, format="json"
    ).json()
    assert body["score"] == 635
    assert reason_points(body) == [
        ("account_age", 80),
        ("on_time_payments", 60),
        ("bookings_completed", 60),
        ("late_payments", 25),
    ]
    assert set(body["reasons"][0]) == {"code", "label", "points_lost", "tip"}


@pytest.mark.parametrize(
    "changes",
    [{"unpaid_claims": 0}, {"settle_unpaid_claims": 1}, {"settle_unpaid_claims": 5}],
)
def test_simulate_without_the_unpaid_claim_gains_340(citizen_api, claim_file, changes):
    # When
    response = citizen_api.post(SIMULATE, {"changes": changes}, format="json")
    # Then -280 becomes +60
    assert response.status_code == 200
    body = response.json()
    assert (body["score"], body["band"], body["current_score"], body["delta"]) == (
        780,
        "excellent",
        440,
        340,
    )
    assert "unpaid_claims" not in [code for code, _ in reason_points(body)]


def test_simulate_of_a_thin_file_paying_bills_is_no_longer_thin(citizen_api, citizen):
    # Given a new citizen (560, thin file)
    citizen_api.get(SCORE)
    # When
    body = citizen_api.post(
        SIMULATE, {"changes": {"pay_next_bills_on_time": 1}}, format="json"
    ).json()
    # Then on-time 100% adds 120
    assert (body["score"], body["current_score"], body["delta"]) == (680, 560, 120)
    assert "thin_file" not in [code for code, _ in reason_points(body)]


def test_simulate_writes_nothing(citizen_api, citizen, claim_file):
    # Given a citizen who has a snapshot
    citizen_api.get(SCORE)
    before = scoring_counts()
    # When
    with CaptureQueriesContext(connection) as queries:
        response = citizen_api.post(
            SIMULATE,
            {"changes": {"unpaid_claims": 0, "pay_next_bills_on_time": 3}},
            format="json",
        )
    # Then
    assert response.status_code == 200
    assert writes_in(queries) == []
    assert scoring_counts() == before
    assert citizen_api.get(SCORE).json()["score"] == 440
    assert CreditEvent.objects.get(pk=claim_file.pk).status == EventStatus.ACTIVE


def test_simulate_writes_nothing_for_a_citizen_without_a_snapshot(citizen_api, citizen):
    # Given a citizen who never looked at the score
    assert scoring_counts() == (0, 0, 0, 0)
    # When
    with CaptureQueriesContext(connection) as queries:
        response = citizen_api.post(
            SIMULATE, {"changes": {"pay_next_bills_on_time": 1}}, format="json"
        )
    # Then the what-if is computed from today's facts, and nothing is written
    assert response.status_code == 200
    body = response.json()
    assert (body["score"], body["current_score"], body["delta"]) == (680, 560, 120)
    assert writes_in(queries) == []
    assert scoring_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"changes": {"become_rich": 1}}, "changes.become_rich", "invalid"),
        ({"changes": {"balance": 100}}, "changes.balance", "invalid"),
        ({"changes": {"open_disputes": 0}}, "changes.open_disputes", "invalid"),
        ({"changes": {"score": 900}}, "changes.score", "invalid"),
        ({"changes": {"pay_next_bills_on_time": "3"}}, "changes.pay_next_bills_on_time", "invalid"),
        ({"changes": {"pay_next_bills_on_time": 3.0}}, "changes.pay_next_bills_on_time", "invalid"),
        ({"changes": {"pay_next_bills_on_time": 2.5}}, "changes.pay_next_bills_on_time", "invalid"),
        (
            {"changes": {"pay_next_bills_on_time": True}},
            "changes.pay_next_bills_on_time",
            "invalid",
        ),
        ({"changes": {"unpaid_claims": False}}, "changes.unpaid_claims", "invalid"),
        ({"changes": {"pay_next_bills_on_time": None}}, "changes.pay_next_bills_on_time", "null"),
        ({"changes": {"pay_next_bills_on_time": [3]}}, "changes.pay_next_bills_on_time", "invalid"),
        ({"changes": {"unpaid_claims": -1}}, "changes.unpaid_claims", "invalid"),
        ({"changes": {"pay_next_bills_on_time": 101}}, "changes.pay_next_bills_on_time", "invalid"),
        ({"changes": {"identity_level": 3}}, "changes.identity_level", "invalid"),
        ({"changes": {"on_time_ratio_12m": 101}}, "changes.on_time_ratio_12m", "invalid"),
        ({"changes": {}}, "changes", "empty"),
        ({"changes": [1, 2]}, "changes", "not_a_dict"),
        ({"changes": "pay_next_bills_on_time"}, "changes", "not_a_dict"),
        ({"changes": None}, "changes", "null"),
        ({}, "changes", "required"),
    ],
)
def test_simulate_refuses_bad_changes_and_writes_nothing(
    citizen_api, citizen, payload, field, code
):
    # Given a citizen who never looked at the score
    # When
    response = citizen_api.post(SIMULATE, payload, format="json")
    # Then
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["status"]) == ("invalid", 400)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert all(e["message"] for e in body["errors"])
    assert scoring_counts() == (0, 0, 0, 0)


def test_simulate_names_every_bad_change(citizen_api, citizen):
    response = citizen_api.post(
        SIMULATE,
        {"changes": {"pay_next_bills_on_time": 2, "magic": 1, "identity_level": 7}},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(e["field"] for e in errors) == ["changes.identity_level", "changes.magic"]
    limit = next(e for e in errors if e["field"] == "changes.identity_level")
    assert limit["message"] == "Must be from 0 to 2."


def test_simulate_accepts_the_limits(citizen_api, citizen):
    response = citizen_api.post(
        SIMULATE,
        {"changes": {"pay_next_bills_on_time": 100, "identity_level": 2, "unpaid_claims": 0}},
        format="json",
    )
    assert response.status_code == 200
    # thin 560 -> on-time 100% +120, document +60
    assert (response.json()["score"], response.json()["delta"]) == (740, 180)


# --- /me/events --------------------------------------------------------------------------


def test_events_list_only_the_callers_with_whether_they_count(
    citizen_api, citizen, other_citizen, record
):
    # Given a booking, a claim that is disputed (it still counts), a no-show past its
    # 365-day window, and another citizen's event
    booking = record(citizen, "booking_completed", days_ago=5, source="booking:1")
    claim = record(
        citizen,
        "claim_unpaid",
        days_ago=10,
        source="claim:7:unpaid",
        amount=30_000,
        currency="CNY",
        subject="claim:7",
        description="Broken lamp",
    )
    old_no_show = record(citizen, "no_show", days_ago=400, source="booking:0:no-show")
    record(other_citizen, "no_show", days_ago=1, source="booking:99:no-show")
    dispute = services.dispute_open(citizen=citizen, event=claim, reason="I paid it.")
    # When
    response = citizen_api.get(EVENTS)
    # Then newest first
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None
    assert body["previous"] is None
    assert body["results"] == [
        {
            "id": str(booking.id),
            "kind": "booking_completed",
            "occurred_at": iso(booking.occurred_at),
            "amount": None,
            "currency": "",
            "source": "booking:1",
            "description": "",
            "description_code": "kind_only",
            "description_params": {},
            "status": "active",
            "counts": True,
            "counts_until": iso(booking.occurred_at + timedelta(days=730)),
            "settled_at": None,
            "dispute_id": None,
        },
        {
            "id": str(claim.id),
            "kind": "claim_unpaid",
            "occurred_at": iso(claim.occurred_at),
            "amount": 30_000,
            "currency": "CNY",
            "source": "claim:7:unpaid",
            "description": "Broken lamp",
            "description_code": None,
            "description_params": {},
            "status": "disputed",
            "counts": True,
            "counts_until": iso(claim.occurred_at + timedelta(days=730)),
            "settled_at": None,
            "dispute_id": str(dispute.id),
        },
        {
            "id": str(old_no_show.id),
            "kind": "no_show",
            "occurred_at": iso(old_no_show.occurred_at),
            "amount": None,
            "currency": "",
            "source": "booking:0:no-show",
            "description": "",
            "description_code": "kind_only",
            "description_params": {},
            "status": "active",
            "counts": False,
            "counts_until": iso(old_no_show.occurred_at + timedelta(days=365)),
            "settled_at": None,
            "dispute_id": None,
        },
    ]


def test_events_show_a_settled_claim_as_no_longer_counting(citizen_api, citizen, record):
    # Given an unpaid claim later paid
    unpaid = record(citizen, "claim_unpaid", days_ago=10, subject="claim:3", amount=9_000)
    paid = record(citizen, "claim_paid", days_ago=2, subject="claim:3", amount=9_000)
    # When
    results = citizen_api.get(EVENTS).json()["results"]
    # Then
    by_id = {e["id"]: e for e in results}
    assert by_id[str(unpaid.id)]["counts"] is False
    assert by_id[str(unpaid.id)]["settled_at"] == iso(paid.occurred_at)
    assert by_id[str(paid.id)]["counts"] is True
    assert citizen_api.get(SCORE).json()["factors"][4]["value"] == 0


def test_events_are_paginated(citizen_api, citizen, record):
    # Given 21 events
    for day in range(1, 22):
        record(citizen, "bill_paid_on_time", days_ago=day)
    # When
    first = citizen_api.get(EVENTS).json()
    second = citizen_api.get(first["next"]).json()
    # Then
    assert first["count"] == 21
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert len(second["results"]) == 1
    assert second["next"] is None
    oldest = CreditEvent.objects.order_by("occurred_at").first()
    assert second["results"][0]["id"] == str(oldest.id)


def test_events_list_costs_a_fixed_number_of_queries(
    citizen_api, citizen, record, django_assert_max_num_queries
):
    # Given 20 events, each disputed
    for day in range(1, 21):
        event = record(citizen, "claim_unpaid", days_ago=day, amount=day)
        services.dispute_open(citizen=citizen, event=event, reason="Not mine.")
    # When / Then
    with django_assert_max_num_queries(4):
        response = citizen_api.get(EVENTS)
    assert [e["dispute_id"] is not None for e in response.json()["results"]] == [True] * 20


def test_events_of_a_new_citizen_are_empty(citizen_api, citizen):
    assert citizen_api.get(EVENTS).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


# --- /me/disputes ------------------------------------------------------------------------


def test_a_dispute_of_a_record_nobody_furnished_goes_to_staff_and_the_record_counts(
    citizen_api, citizen, claim_file, django_capture_on_commit_callbacks
):
    # Given the score with the unpaid claim (no merchant furnished the record)
    assert citizen_api.get(SCORE).json()["score"] == 440
    snapshots_before = ScoreSnapshot.objects.filter(account=citizen).count()
    # When
    with django_capture_on_commit_callbacks(execute=True):
        response = citizen_api.post(
            DISPUTES,
            {"event_id": str(claim_file.id), "reason": "The lamp was broken before."},
            format="json",
        )
    # Then the dispute is with staff at once (nobody else can answer it)
    assert response.status_code == 201
    body = response.json()
    dispute = Dispute.objects.get()
    assert body == {
        "id": str(dispute.id),
        "event_id": str(claim_file.id),
        "event_kind": "claim_unpaid",
        "reason": "The lamp was broken before.",
        "status": "escalated",
        "opened_at": iso(dispute.opened_at),
        "respond_by": None,
        "answer_note": "",
        "answered_at": None,
        "escalated_at": iso(dispute.opened_at),
        "escalation_reason": "",
        "resolved_at": None,
        "resolution_note": "",
        "resolution": "",
        "resolved_automatically": False,
        "can_escalate": False,
    }
    assert (dispute.citizen_id, dispute.event_id) == (citizen.pk, claim_file.pk)
    claim_file.refresh_from_db()
    assert claim_file.status == EventStatus.DISPUTED
    # the event still counts, marked disputed
    event = next(
        e for e in citizen_api.get(EVENTS).json()["results"] if e["id"] == body["event_id"]
    )
    assert (event["counts"], event["status"], event["dispute_id"]) == (
        True,
        "disputed",
        str(dispute.id),
    )
    # and the score was recomputed with the open dispute: the same 440
    assert ScoreSnapshot.objects.filter(account=citizen).count() == snapshots_before + 1
    score = citizen_api.get(SCORE).json()
    assert (score["score"], score["band"]) == (440, "poor")
    assert "unpaid_claims" in [code for code, _ in reason_points(score)]
    latest = ScoreSnapshot.objects.filter(account=citizen).latest("computed_at", "id")
    assert (latest.features["open_disputes"], latest.trigger) == (1, "event")


def test_disputes_are_listed(citizen_api, citizen, other_citizen, record):
    # Given a dispute of the citizen's and one of another citizen's
    claim = record(citizen, "claim_unpaid", days_ago=3, amount=100)
    services.dispute_open(citizen=citizen, event=claim, reason="Not mine.")
    theirs = record(other_citizen, "claim_unpaid", days_ago=3, amount=100)
    services.dispute_open(citizen=other_citizen, event=theirs, reason="Not mine either.")
    # When
    response = citizen_api.get(DISPUTES)
    # Then
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    dispute = Dispute.objects.get(citizen=citizen)
    assert body["results"] == [
        {
            "id": str(dispute.id),
            "event_id": str(claim.id),
            "event_kind": "claim_unpaid",
            "reason": "Not mine.",
            "status": "escalated",
            "opened_at": iso(dispute.opened_at),
            "respond_by": None,
            "answer_note": "",
            "answered_at": None,
            "escalated_at": iso(dispute.opened_at),
            "escalation_reason": "",
            "resolved_at": None,
            "resolution_note": "",
            "resolution": "",
            "resolved_automatically": False,
            "can_escalate": False,
        }
    ]


def test_disputing_the_same_event_again_is_409(citizen_api, citizen, record):
    # Given a disputed event
    claim = record(citizen, "claim_unpaid", days_ago=3, amount=100)
    payload = {"event_id": str(claim.id), "reason": "Not mine."}
    assert citizen_api.post(DISPUTES, payload, format="json").status_code == 201
    before = scoring_counts()
    # When
    response = citizen_api.post(DISPUTES, {**payload, "reason": "Really."}, format="json")
    # Then
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["status"], body["errors"]) == ("already_disputed", 409, [])
    assert scoring_counts() == before
    assert Dispute.objects.get().reason == "Not mine."


def test_disputing_another_citizens_event_is_404_and_writes_nothing(
    citizen_api, citizen, other_citizen, record, django_capture_on_commit_callbacks
):
    # Given another citizen's unpaid claim
    theirs = record(other_citizen, "claim_unpaid", days_ago=3, amount=100)
    before = scoring_counts()
    # When
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = citizen_api.post(
            DISPUTES, {"event_id": str(theirs.id), "reason": "Hmm."}, format="json"
        )
    # Then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert callbacks == []
    assert scoring_counts() == before
    theirs.refresh_from_db()
    assert theirs.status == EventStatus.ACTIVE


def test_disputing_an_unknown_event_is_404(citizen_api, citizen):
    response = citizen_api.post(
        DISPUTES, {"event_id": str(uuid4()), "reason": "Hmm."}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert scoring_counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"event_id": "EVENT"}, [("reason", "required")]),
        ({"event_id": "EVENT", "reason": ""}, [("reason", "blank")]),
        ({"event_id": "EVENT", "reason": "x" * 2001}, [("reason", "max_length")]),
        ({"event_id": "not-a-uuid", "reason": "Hmm."}, [("event_id", "invalid")]),
        ({"reason": "Hmm."}, [("event_id", "required")]),
        ({}, [("event_id", "required"), ("reason", "required")]),
    ],
)
def test_dispute_refuses_bad_input_and_writes_nothing(
    citizen_api, citizen, record, payload, errors
):
    # Given an event of the citizen's
    claim = record(citizen, "claim_unpaid", days_ago=3, amount=100)
    payload = {k: str(claim.id) if v == "EVENT" else v for k, v in payload.items()}
    before = scoring_counts()
    # When
    response = citizen_api.post(DISPUTES, payload, format="json")
    # Then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert sorted((e["field"], e["code"]) for e in body["errors"]) == errors
    assert scoring_counts() == before
    claim.refresh_from_db()
    assert claim.status == EventStatus.ACTIVE


# --- /me/access-log ----------------------------------------------------------------------


def test_access_log_stays_empty_for_the_citizens_own_reads(citizen_api, citizen, record):
    # Given the citizen's own reads of everything
    record(citizen, "bill_paid_on_time", days_ago=2)
    citizen_api.get(SCORE)
    citizen_api.get(HISTORY)
    citizen_api.post(SIMULATE, {"changes": {"pay_next_bills_on_time": 3}}, format="json")
    citizen_api.get(EVENTS)
    citizen_api.get(DISPUTES)
    # When
    response = citizen_api.get(ACCESS_LOG)
    # Then
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert AccessLogEntry.objects.count() == 0


def test_access_log_shows_a_disclosure_to_the_citizen_only(
    citizen_api, citizen, other_citizen, claim_file
):
    # Given a merchant read the citizen's score and unpaid claims
    disclosure = services.facts_disclose(
        citizen_id=citizen.pk,
        accessor_kind="merchant",
        accessor_id="m1",
        accessor_name="Grand Hotel",
        purpose=Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=50_000, currency="CNY"),
        fact_keys=["score", "unpaid_claims"],
    )
    assert disclosure.facts == {"score": 440, "unpaid_claims": 1}
    # When
    response = citizen_api.get(ACCESS_LOG)
    # Then
    assert response.status_code == 200
    entry = AccessLogEntry.objects.get()
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": entry.id,
                "accessor": "Grand Hotel",
                "accessor_kind": "merchant",
                "purpose": "Deposit waiver of 500.00 CNY",
                "purpose_code": "deposit_waiver",
                "amount": 50_000,
                "currency": "CNY",
                "purpose_note": "",
                "facts": ["score", "unpaid_claims"],
                "decision_id": None,
                "created_at": iso(entry.created_at),
            }
        ],
    }
    # and the other citizen's log stays empty
    theirs = client_for(other_citizen).get(ACCESS_LOG).json()
    assert theirs == {"count": 0, "next": None, "previous": None, "results": []}


def test_access_log_is_newest_first_with_the_decision(citizen_api, citizen):
    # Given two reads, the second with a decision
    decision_id = uuid4()
    for name, decision in (("Early Hotel", None), ("Late Rental", decision_id)):
        services.facts_disclose(
            citizen_id=citizen.pk,
            accessor_kind="merchant",
            accessor_id=name,
            accessor_name=name,
            purpose=Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=50_000, currency="CNY"),
            fact_keys=["band"],
            decision_id=decision,
        )
    # When
    results = citizen_api.get(ACCESS_LOG).json()["results"]
    # Then
    assert [(e["accessor"], e["decision_id"]) for e in results] == [
        ("Late Rental", str(decision_id)),
        ("Early Hotel", None),
    ]


# --- Credentials and schema --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", SCORE, None),
        ("get", HISTORY, None),
        ("post", SIMULATE, {"changes": {"pay_next_bills_on_time": 3}}),
        ("get", EVENTS, None),
        ("get", DISPUTES, None),
        ("post", DISPUTES, {"event_id": "00000000-0000-0000-0000-000000000000", "reason": "x"}),
        ("get", ACCESS_LOG, None),
    ],
)
def test_every_scoring_endpoint_needs_credentials(api, citizen, method, path, payload):
    # When
    response = getattr(api, method)(path, payload, format="json")
    # Then
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"
    assert scoring_counts() == (0, 0, 0, 0)


def test_a_bad_token_is_401(api, citizen):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get(SCORE)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert ScoreSnapshot.objects.count() == 0


def test_schema_describes_the_scoring_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths) >= {SCORE, HISTORY, SIMULATE, EVENTS, DISPUTES, ACCESS_LOG}
    assert set(paths[SCORE]) == {"get"}
    assert set(paths[SIMULATE]) == {"post"}
    assert set(paths[DISPUTES]) == {"get", "post"}
    # 403: a web session's CSRF check; 409 account_inactive; 503: no active scorecard, or
    # the database (common.schema.DocumentedAutoSchema)
    assert set(paths[SIMULATE]["post"]["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "409",
        "413",
        "415",
        "503",
    }
    assert set(paths[DISPUTES]["post"]["responses"]) == {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "415",
        "503",
    }


def test_schema_names_every_change_a_simulation_accepts(client):
    """The request schema of a simulation lists each fact and action with the range the
    server accepts, and nothing else (it said any object, so a conforming client could
    send changes that are refused)."""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    ref = schema["paths"][SIMULATE]["post"]["requestBody"]["content"]["application/json"]
    request = schema["components"]["schemas"][ref["schema"]["$ref"].rsplit("/", 1)[1]]
    changes = request["properties"]["changes"]
    assert (changes["additionalProperties"], changes["minProperties"]) == (False, 1)
    assert {key: (p["minimum"], p["maximum"]) for key, p in changes["properties"].items()} == {
        "pay_next_bills_on_time": (0, 100),
        "complete_next_bookings": (0, 100),
        "settle_unpaid_claims": (0, 100),
        "identity_level": (0, 2),
        "account_age_days": (0, 36_500),
        "on_time_ratio_12m": (0, 100),
        "late_payments_24m": (0, 1_000),
        "bookings_completed": (0, 1_000),
        "no_shows_12m": (0, 1_000),
        "unpaid_claims": (0, 1_000),
    }
    assert {p["type"] for p in changes["properties"].values()} == {"integer"}

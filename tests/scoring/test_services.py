"""Scoring's services: recording events, recomputation (single and batch), disputes,
the access-logged read and scorecard activation."""

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scoring import selectors, services, tasks
from scoring.errors import (
    AlreadyDisputed,
    DisputeNotEscalatable,
    DisputeNotEscalated,
    DisputeNotOpen,
    EventSourceConflict,
    InvalidEvent,
)
from scoring.facts import EVENT_WINDOW_DAYS, EventKinds
from scoring.models import (
    AccessLogEntry,
    CreditEvent,
    Dispute,
    EventStatus,
    RecomputeWanted,
    RecordDisputeResolution,
    RecordDisputeStatus,
    Scorecard,
    ScorecardStatus,
    ScoreSnapshot,
    SnapshotTrigger,
)
from scoring.purposes import AccessPurpose, Purpose
from tests.factories import UserFactory
from wallet.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(django_capture_on_commit_callbacks):
    """Record an event as a service caller would, running what it schedules on commit."""

    def record_(user: User, kind: str, *, days_ago: float = 1, source: str | None = None, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return services.record_event(
                account=user,
                kind=kind,
                occurred_at=timezone.now() - timedelta(days=days_ago),
                source=source or f"test:{random.random()}",
                **kw,
            )

    return record_


def current_score(user: User) -> int:
    snapshot = selectors.score_current(account=user)
    assert snapshot is not None
    return snapshot.score


# --- record_event ----------------------------------------------------------------------


def test_recording_the_same_source_twice_is_one_event_and_one_recompute(citizen, record):
    # Given an event recorded once
    first = record(citizen, EventKinds.BILL_PAID_ON_TIME, source="bill:1")
    snapshots = ScoreSnapshot.objects.filter(account=citizen).count()
    # When the same source is recorded again
    again = record(citizen, EventKinds.BILL_PAID_ON_TIME, source="bill:1", days_ago=5)
    # Then it is the same event, and no new snapshot was written
    assert again.pk == first.pk
    assert CreditEvent.objects.filter(account=citizen).count() == 1
    assert ScoreSnapshot.objects.filter(account=citizen).count() == snapshots == 1


def test_the_same_source_as_another_kind_is_refused(citizen, record):
    record(citizen, EventKinds.BILL_PAID_ON_TIME, source="bill:1")
    with pytest.raises(EventSourceConflict):
        record(citizen, EventKinds.BILL_PAID_LATE, source="bill:1")
    assert CreditEvent.objects.filter(account=citizen).count() == 1


def test_an_event_counts_for_its_window_and_schedules_a_recompute(
    citizen, django_capture_on_commit_callbacks
):
    # When an event is recorded
    with django_capture_on_commit_callbacks() as callbacks:
        event = services.record_event(
            account=citizen,
            kind=EventKinds.NO_SHOW,
            occurred_at=timezone.now() - timedelta(days=2),
            source="booking:9",
        )
    # Then it counts for 12 months, and one recompute waits for the commit
    assert event.counts_until - event.occurred_at == timedelta(days=365)
    assert len(callbacks) == 1
    assert not ScoreSnapshot.objects.exists()
    callbacks[0]()
    assert selectors.score_current(account=citizen).features["no_shows_12m"] == 1


@pytest.mark.parametrize(
    ("kind", "ahead", "naive", "amount"),
    [
        ("lottery_win", timedelta(0), False, None),
        (EventKinds.NO_SHOW, timedelta(days=1), False, None),
        (EventKinds.NO_SHOW, timedelta(0), True, None),
        (EventKinds.CLAIM_UNPAID, timedelta(0), False, -5),
    ],
    ids=["unknown-kind", "in-the-future", "naive-time", "negative-amount"],
)
def test_invalid_events_are_refused_and_nothing_is_written(citizen, kind, ahead, naive, amount):
    # Times are taken when the test runs, not when it is collected
    occurred_at = timezone.now() + ahead
    if naive:
        occurred_at = occurred_at.replace(tzinfo=None)
    with pytest.raises(InvalidEvent):
        services.record_event(
            account=citizen, kind=kind, occurred_at=occurred_at, source="x", amount=amount
        )
    assert not CreditEvent.objects.exists()


def test_paying_an_unpaid_claim_settles_it(citizen, record):
    # Given an unpaid claim (the score falls below 550)
    record(citizen, EventKinds.CLAIM_UNPAID, source="claim:1", subject="claim:1", amount=12_000)
    assert current_score(citizen) < 550
    # When the claim is paid
    record(citizen, EventKinds.CLAIM_PAID, source="claim:1:paid", subject="claim:1", amount=12_000)
    # Then it no longer counts as unpaid, and the score is back where it was
    unpaid = CreditEvent.objects.get(source="claim:1")
    assert unpaid.settled_at is not None
    assert selectors.score_current(account=citizen).features["unpaid_claims"] == 0
    assert current_score(citizen) == 560


def test_a_payment_recorded_before_the_unpaid_claim_still_settles_it(citizen, record):
    # Given the claim's payment arrives first, then (late) its "unpaid" record
    record(citizen, EventKinds.CLAIM_PAID, source="claim:2:paid", subject="claim:2", days_ago=1)
    unpaid = record(
        citizen, EventKinds.CLAIM_UNPAID, source="claim:2", subject="claim:2", days_ago=3
    )
    # Then the unpaid claim is settled from the payment's time and does not count
    paid_at = CreditEvent.objects.get(source="claim:2:paid").occurred_at
    assert unpaid.settled_at == paid_at
    assert selectors.score_current(account=citizen).features["unpaid_claims"] == 0


def test_a_bill_overdue_then_paid_late_is_one_late_payment(citizen, record):
    record(citizen, EventKinds.BILL_OVERDUE, source="bill:7:overdue", subject="bill:7", days_ago=3)
    record(citizen, EventKinds.BILL_PAID_LATE, source="bill:7:paid", subject="bill:7")
    features = selectors.score_current(account=citizen).features
    assert (features["late_payments_24m"], features["late_payments_12m"]) == (1, 1)


# --- Recomputation ---------------------------------------------------------------------


def random_population(count: int, seed: int) -> list[User]:
    rng = random.Random(seed)
    now = timezone.now()
    users = []
    for index in range(count):
        user = UserFactory.create(
            identity_level=rng.randint(0, 2),
            date_joined=now - timedelta(days=rng.uniform(0, 1_500)),
        )
        users.append(user)
        for number in range(rng.randint(0, 12)):
            kind = rng.choice(
                [EventKinds.BILL_PAID_ON_TIME] * 5
                + [EventKinds.BILL_PAID_LATE, EventKinds.BILL_OVERDUE, EventKinds.NO_SHOW]
                + [EventKinds.BOOKING_COMPLETED] * 2
                + [EventKinds.CLAIM_UNPAID, EventKinds.CLAIM_PAID]
            )
            # Recorded without running the recompute: the test decides when to compute.
            services.record_event(
                account=user,
                kind=kind,
                occurred_at=now - timedelta(days=rng.uniform(0, 800)),
                source=f"seed:{index}:{number}",
            )
    return users


def snapshot_state(users: list[User]) -> dict[int, tuple]:
    state = {}
    for user in users:
        snapshot = selectors.score_current(account=user)
        assert snapshot is not None
        state[user.pk] = (snapshot.score, snapshot.band, snapshot.points, snapshot.reasons)
    return state


def test_batch_and_single_account_paths_give_identical_scores(settings, time_machine):
    # Given a population, and a moment frozen for the whole test
    time_machine.move_to(timezone.now(), tick=False)
    settings.SCORING_BATCH_CHUNK_SIZE = 3
    users = random_population(20, seed=7)
    # When every account is computed alone first
    for user in users:
        assert services.score_recompute(account_id=user.pk, trigger=SnapshotTrigger.MANUAL)
    alone = snapshot_state(users)
    written = ScoreSnapshot.objects.count()
    # Then the batch, in chunks of 3, finds every score already current: it writes nothing
    assert tasks.recompute_all.delay().get() == len(selectors.account_id_chunks(size=3)) == 7
    assert ScoreSnapshot.objects.count() == written
    assert snapshot_state(users) == alone


def test_single_account_recompute_after_the_batch_writes_nothing(settings, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    settings.SCORING_BATCH_CHUNK_SIZE = 4
    users = random_population(12, seed=11)
    # Given the batch computed everyone
    tasks.recompute_all.delay()
    batch = snapshot_state(users)
    assert ScoreSnapshot.objects.filter(trigger=SnapshotTrigger.BATCH).count() == len(users)
    # When each is recomputed alone, it is already current
    assert not any(
        services.score_recompute(account_id=user.pk, trigger=SnapshotTrigger.MANUAL)
        for user in users
    )
    assert snapshot_state(users) == batch


def test_running_the_batch_twice_changes_nothing(settings):
    settings.SCORING_BATCH_CHUNK_SIZE = 5
    users = random_population(15, seed=3)
    tasks.recompute_all.delay()
    first = snapshot_state(users)
    count = ScoreSnapshot.objects.count()
    tasks.recompute_all.delay()
    assert ScoreSnapshot.objects.count() == count
    assert snapshot_state(users) == first


def test_the_batch_writes_again_when_an_event_ages_out(citizen, record, travel):
    # Given a no-show 360 days ago
    record(citizen, EventKinds.NO_SHOW, days_ago=360)
    assert current_score(citizen) == 560 - 30
    # When the batch runs 6 days later, after the no-show's 12 months
    travel(timedelta(days=6))
    tasks.recompute_all.delay()
    # Then the no-show no longer counts (a thin file again)
    snapshot = selectors.score_current(account=citizen)
    assert (snapshot.score, snapshot.trigger) == (560, SnapshotTrigger.BATCH)


def test_one_account_costs_a_fixed_number_of_queries_whatever_its_history(
    django_capture_on_commit_callbacks,
):
    # Given one account with 1 event and another with 80, neither recomputed yet
    small, large = UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=False):
        services.record_event(
            account=small,
            kind=EventKinds.BILL_PAID_ON_TIME,
            occurred_at=timezone.now(),
            source="s:0",
        )
        for number in range(80):
            services.record_event(
                account=large,
                kind=EventKinds.BILL_PAID_ON_TIME if number % 4 else EventKinds.BILL_PAID_LATE,
                occurred_at=timezone.now() - timedelta(days=number),
                source=f"l:{number}",
            )
    # When each is recomputed (both write a new snapshot)
    counts = []
    for user in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert services.score_recompute(account_id=user.pk, trigger=SnapshotTrigger.EVENT)
        counts.append(len(queries))
    # Then both cost the same, small, number of queries: the scorecard, SAVEPOINT, the
    # account's advisory lock, its outbox row, its features, its current snapshot, the
    # new one, the outbox row's deletion, RELEASE
    assert counts[0] == counts[1]
    assert counts[0] <= 9


# --- Disputes --------------------------------------------------------------------------


FURNISHER = uuid.UUID("00000000-0000-4000-8000-00000000f00d")


def test_a_disputed_event_keeps_counting_and_the_score_is_recomputed(
    citizen, record, django_capture_on_commit_callbacks
):
    # Given an unpaid claim a merchant reported
    claim = record(
        citizen, EventKinds.CLAIM_UNPAID, source="claim:1", amount=5_000, furnisher_id=FURNISHER
    )
    assert current_score(citizen) == 350
    # When the citizen disputes it
    with django_capture_on_commit_callbacks(execute=True):
        dispute = services.dispute_open(citizen=citizen, event=claim, reason="I paid in cash.")
    # Then the dispute goes to that merchant, the event is marked disputed and still
    # counts, and the score is recomputed with the open dispute
    claim.refresh_from_db()
    assert (dispute.status, claim.status) == (RecordDisputeStatus.OPEN, EventStatus.DISPUTED)
    assert (dispute.furnisher_id, dispute.respond_by) == (
        FURNISHER,
        dispute.opened_at + timedelta(days=30),
    )
    snapshot = selectors.score_current(account=citizen)
    assert snapshot.score == 350
    assert (snapshot.features["unpaid_claims"], snapshot.features["open_disputes"]) == (1, 1)


def test_an_event_is_disputed_once(citizen, record):
    event = record(citizen, EventKinds.NO_SHOW)
    services.dispute_open(citizen=citizen, event=event, reason="I was there.")
    with pytest.raises(AlreadyDisputed):
        services.dispute_open(citizen=citizen, event=event, reason="Again.")
    assert Dispute.objects.count() == 1


def test_another_citizens_event_cannot_be_disputed(citizen, other_citizen, record):
    event = record(other_citizen, EventKinds.NO_SHOW)
    with pytest.raises(CreditEvent.DoesNotExist):
        services.dispute_open(citizen=citizen, event=event, reason="Not mine.")
    assert not Dispute.objects.exists()
    event.refresh_from_db()
    assert event.status == EventStatus.ACTIVE


@pytest.mark.parametrize(
    ("upheld", "event_status", "score"),
    [(True, EventStatus.REMOVED, 560), (False, EventStatus.ACTIVE, 530)],
)
def test_staff_decide_a_dispute_of_a_record_nobody_furnished(
    citizen, record, django_capture_on_commit_callbacks, upheld, event_status, score
):
    # Given a disputed no-show no merchant furnished (560 - 30 while it counts): it
    # went to staff at once
    event = record(citizen, EventKinds.NO_SHOW)
    dispute = services.dispute_open(citizen=citizen, event=event, reason="I was there.")
    assert (dispute.status, dispute.respond_by) == (RecordDisputeStatus.ESCALATED, None)
    assert dispute.escalated_at == dispute.opened_at
    staff = UserFactory(is_staff=True)
    # When staff resolve it
    with django_capture_on_commit_callbacks(execute=True):
        services.dispute_resolve(dispute=dispute, upheld=upheld, note="Checked.", resolved_by=staff)
    # Then the event is removed or stands, and the score says so
    dispute.refresh_from_db()
    event.refresh_from_db()
    assert dispute.status == (
        RecordDisputeStatus.UPHELD if upheld else RecordDisputeStatus.REJECTED
    )
    assert (dispute.resolved_by, dispute.resolution_note) == (staff, "Checked.")
    assert (dispute.resolution, dispute.resolved_automatically) == (
        RecordDisputeResolution.STAFF,
        False,
    )
    assert event.status == event_status
    assert current_score(citizen) == score
    with pytest.raises(DisputeNotEscalated):
        services.dispute_resolve(dispute=dispute, upheld=not upheld, note="", resolved_by=staff)
    dispute.refresh_from_db()
    assert dispute.resolution_note == "Checked."


def test_a_dispute_its_furnisher_does_not_answer_in_30_days_is_removed(
    citizen, record, travel, django_capture_on_commit_callbacks
):
    # Given a dispute of a furnished no-show, opened now: the no-show still counts
    event = record(citizen, EventKinds.NO_SHOW, furnisher_id=FURNISHER)
    with django_capture_on_commit_callbacks(execute=True):
        dispute = services.dispute_open(citizen=citizen, event=event, reason="I was there.")
    assert current_score(citizen) == 530
    # When the task runs a minute before its deadline, nothing happens
    travel(timedelta(days=29, hours=23, minutes=59))
    assert tasks.remove_unanswered_disputes.delay().get() == 0
    dispute.refresh_from_db()
    assert dispute.status == RecordDisputeStatus.OPEN
    # When it runs after 30 days, the record is removed, by nobody, with a note
    travel(timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remove_unanswered_disputes.delay().get() == 1
    dispute.refresh_from_db()
    event.refresh_from_db()
    assert (dispute.status, dispute.resolved_by) == (RecordDisputeStatus.REMOVED_UNANSWERED, None)
    assert dispute.resolution == RecordDisputeResolution.AUTOMATIC
    assert dispute.resolved_automatically
    assert dispute.resolution_note == services.REMOVED_UNANSWERED_NOTE
    assert event.status == EventStatus.REMOVED
    assert current_score(citizen) == 560
    # And running it again (or its former name, kept for old beat entries) changes nothing
    assert tasks.remove_unanswered_disputes.delay().get() == 0
    assert tasks.uphold_stale_disputes.delay().get() == 0


# --- The access-logged read ------------------------------------------------------------


def test_a_third_party_read_returns_the_facts_and_writes_one_log_row(citizen, record):
    record(citizen, EventKinds.CLAIM_UNPAID, amount=100)
    disclosure = services.facts_disclose(
        citizen_id=citizen.pk,
        accessor_kind="merchant",
        accessor_id="m-1",
        accessor_name="Grand Hotel",
        purpose=Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=50_000, currency="CNY"),
        fact_keys=["score", "band", "unpaid_claims"],
    )
    assert disclosure.facts == {"score": 350, "band": "poor", "unpaid_claims": 1}
    entry = AccessLogEntry.objects.get()
    assert (entry.citizen, entry.accessor_name, entry.purpose) == (
        citizen,
        "Grand Hotel",
        "Deposit waiver of 500.00 CNY",
    )
    assert (entry.purpose_code, entry.amount, entry.currency) == ("deposit_waiver", 50_000, "CNY")
    assert entry.facts == ["score", "band", "unpaid_claims"]
    assert entry.snapshot == disclosure.snapshot


def test_the_citizens_own_reads_write_no_log_row(citizen, record):
    record(citizen, EventKinds.BOOKING_COMPLETED)
    services.score_current_ensure(account=citizen)
    selectors.score_explained(snapshot=selectors.score_current(account=citizen))
    selectors.score_simulated(
        features=selectors.features_current(account=citizen), changes={"pay_next_bills_on_time": 2}
    )
    assert not AccessLogEntry.objects.exists()


def test_a_snapshot_is_read_only_as_its_own_citizens(citizen, other_citizen):
    others = services.score_current_ensure(account=other_citizen)
    with pytest.raises(ValueError, match="not the citizen's"):
        services.facts_disclose(
            citizen_id=citizen.pk,
            accessor_kind="staff",
            accessor_id="1",
            accessor_name="Open Sesame support",
            purpose=Purpose(AccessPurpose.SUPPORT_REVIEW),
            fact_keys=["score"],
            snapshot=others,
        )
    assert not AccessLogEntry.objects.exists()


def test_unknown_facts_cannot_be_read(citizen):
    with pytest.raises(ValueError, match="balance"):
        services.facts_disclose(
            citizen_id=citizen.pk,
            accessor_kind="merchant",
            accessor_id="m-1",
            accessor_name="Grand Hotel",
            purpose=Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=50_000, currency="CNY"),
            fact_keys=["score", "balance"],
        )
    assert not AccessLogEntry.objects.exists()


def _read(citizen_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "citizen_id": citizen_id,
        "accessor_kind": "merchant",
        "accessor_id": "m-1",
        "accessor_name": "Grand Hotel",
        "purpose": Purpose(AccessPurpose.DEPOSIT_WAIVER, amount=50_000, currency="CNY"),
        "fact_keys": ["score", "band"],
        **changes,
    }


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"fact_keys": ["score", "balance"]}, "Not facts: balance"),
        ({"fact_keys": []}, "Not facts"),
        ({"purpose": "Deposit waiver of 500.00 CNY"}, "has a code"),
        ({"purpose": Purpose(AccessPurpose.OTHER, note="old words")}, "has a code"),
        ({"snapshot": "others"}, "not the citizen's"),
    ],
    ids=["not-a-fact", "no-facts", "a-sentence", "no-code", "anothers-snapshot"],
)
def test_one_read_and_a_history_of_reads_refuse_the_same_read(citizen, other_citizen, bad, message):
    # Given a read that no path may log
    if bad.get("snapshot") == "others":
        bad = {"snapshot": services.score_current_ensure(account=other_citizen)}
    snapshot = services.score_current_ensure(account=citizen)
    history = {"snapshot": snapshot, "created_at": timezone.now(), **bad}
    # Then the read now and the read in a history are both refused, and nothing is logged
    with pytest.raises(ValueError, match=message):
        services.facts_disclose(**_read(citizen.pk, **bad))
    with pytest.raises(ValueError, match=message):
        services.disclosures_record(
            disclosures=[
                services.DisclosureRecord(**_read(citizen.pk)),
                services.DisclosureRecord(**_read(citizen.pk, **history)),
            ]
        )
    assert not AccessLogEntry.objects.exists()


def test_a_history_cannot_read_a_snapshot_computed_after_the_read(citizen):
    snapshot = services.score_current_ensure(account=citizen)
    with pytest.raises(ValueError, match="computed by its moment"):
        services.disclosures_record(
            disclosures=[
                services.DisclosureRecord(
                    **_read(
                        citizen.pk,
                        snapshot=snapshot,
                        created_at=snapshot.computed_at - timedelta(seconds=1),
                    )
                )
            ]
        )
    assert not AccessLogEntry.objects.exists()


def test_one_read_and_a_history_of_it_log_the_same_row(citizen):
    # Given the citizen's current snapshot
    snapshot = services.score_current_ensure(account=citizen)
    # When it is read now, and then recorded as a read of the same snapshot
    now = services.facts_disclose(**_read(citizen.pk, decision_id=None))
    [past] = services.disclosures_record(
        disclosures=[
            services.DisclosureRecord(
                **_read(citizen.pk), snapshot=snapshot, created_at=now.log_entry.created_at
            )
        ]
    )
    # Then both logged the same row and read the same facts
    columns = [f.attname for f in AccessLogEntry._meta.concrete_fields if f.name != "id"]
    rows = [
        [getattr(entry, name) for name in columns]
        for entry in AccessLogEntry.objects.order_by("id")
    ]
    assert rows[0] == rows[1]
    assert now.facts == past.facts == {"score": snapshot.score, "band": snapshot.band}


# --- Scorecards ------------------------------------------------------------------------


def test_activating_a_scorecard_recomputes_every_score(
    citizen, other_citizen, record, django_capture_on_commit_callbacks
):
    # Given scores under version 1, and a draft that adds 50 points to everyone
    record(citizen, EventKinds.BILL_PAID_ON_TIME)
    services.score_current_ensure(account=other_citizen)
    v1 = Scorecard.objects.get(status=ScorecardStatus.ACTIVE)
    draft = services.scorecard_draft_create(
        name="Generous", definition={**v1.definition, "base_points": 450}
    )
    # When it is activated
    with django_capture_on_commit_callbacks(execute=True):
        services.scorecard_activate(scorecard=draft)
    # Then it is the one active version and every score was recomputed under it
    v1.refresh_from_db()
    assert (v1.status, draft.version) == (ScorecardStatus.RETIRED, 2)
    assert Scorecard.objects.get(status=ScorecardStatus.ACTIVE) == draft
    for user, score in ((citizen, 680 + 50), (other_citizen, 560 + 50)):
        snapshot = selectors.score_current(account=user)
        assert (snapshot.scorecard, snapshot.trigger, snapshot.score) == (
            draft,
            SnapshotTrigger.SCORECARD_ACTIVATION,
            score,
        )


@pytest.mark.postgres
def test_snapshots_and_the_access_log_are_append_only_in_the_database(citizen):
    from django.db import IntegrityError, transaction

    snapshot = services.score_current_ensure(account=citizen)
    services.facts_disclose(
        citizen_id=citizen.pk,
        accessor_kind="staff",
        accessor_id="1",
        accessor_name="Support",
        purpose=Purpose(AccessPurpose.SUPPORT_REVIEW),
        fact_keys=["score"],
    )
    for statement in (
        f"UPDATE scoring_scoresnapshot SET score = 950 WHERE id = {snapshot.pk:d}",  # noqa: S608
        "DELETE FROM scoring_accesslogentry",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    snapshot.refresh_from_db()
    assert snapshot.score == 560
    assert AccessLogEntry.objects.count() == 1


# --- Events in bulk --------------------------------------------------------------------


def _history(now):
    """(kind, days ago, source, subject): a bill overdue then paid late, a claim's
    "paid" delivered before its "unpaid", a bill on time and a stay."""
    return [
        (EventKinds.BILL_OVERDUE, 40, "bill:1:overdue", "bill:1"),
        (EventKinds.BILL_PAID_LATE, 35, "bill:1:paid", "bill:1"),
        (EventKinds.CLAIM_PAID, 10, "claim:1:paid", "claim:1"),
        (EventKinds.CLAIM_UNPAID, 20, "claim:1:unpaid", "claim:1"),
        (EventKinds.BILL_PAID_ON_TIME, 5, "bill:2:paid", "bill:2"),
        (EventKinds.BOOKING_COMPLETED, 3, "booking:1", "booking:1"),
    ]


def _as_recorded(user):
    return sorted(
        CreditEvent.objects.filter(account=user).values_list(
            "kind",
            "occurred_at",
            "counts_until",
            "settled_at",
            "source",
            "subject",
            "amount",
            "currency",
            "status",
        ),
        key=lambda row: row[4],
    )


def _record_one_by_one(user: User, events: dict[str, dict]) -> dict[str, object]:
    """Each event through ``record_event``, in order; returns their ids by source."""
    return {
        source: services.record_event(account=user, source=source, **event).pk
        for source, event in events.items()
    }


def _record_in_one_call(user: User, events: dict[str, dict]) -> dict[str, object]:
    ids = services.events_bulk_record(
        events=[
            services.EventRecord(account_id=user.pk, source=source, **event)
            for source, event in events.items()
        ]
    )
    return {source: ids[(user.pk, source)] for source in events}


RecordPath = Callable[[User, dict[str, dict]], dict[str, object]]

each_recording_path = pytest.mark.parametrize(
    "record_events", [_record_one_by_one, _record_in_one_call], ids=["one", "bulk"]
)


@each_recording_path
def test_an_event_settles_the_one_it_settles_in_whichever_order_they_arrive(
    citizen: User, record_events: RecordPath, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a history: a bill overdue then paid late, a claim whose "paid" arrives
    # before its "unpaid", a bill paid on time and a stay
    now = timezone.now()
    history = {
        source: {
            "kind": kind,
            "occurred_at": now - timedelta(days=days),
            "subject": subject,
            "amount": 100,
            "currency": "CNY",
        }
        for kind, days, source, subject in _history(now)
    }
    # When it is recorded
    with django_capture_on_commit_callbacks():
        ids = record_events(citizen, history)
    # Then every event is there once, counting for its kind's window, and exactly the
    # overdue bill and the unpaid claim are settled, when their settling event happened
    recorded = {event.source: event for event in CreditEvent.objects.filter(account=citizen)}
    assert {source: event.pk for source, event in recorded.items()} == ids
    assert {source: event.settled_at for source, event in recorded.items()} == {
        "bill:1:overdue": now - timedelta(days=35),
        "bill:1:paid": None,
        "claim:1:paid": None,
        "claim:1:unpaid": now - timedelta(days=10),
        "bill:2:paid": None,
        "booking:1": None,
    }
    for source, event in recorded.items():
        assert (event.kind, event.occurred_at, event.status) == (
            history[source]["kind"],
            history[source]["occurred_at"],
            EventStatus.ACTIVE,
        )
        assert event.counts_until == event.occurred_at + timedelta(
            days=EVENT_WINDOW_DAYS[event.kind]
        )
        assert (event.amount, event.currency, event.subject) == (
            100,
            "CNY",
            history[source]["subject"],
        )


def test_record_event_returns_the_event_as_stored_and_schedules_one_recompute(
    citizen: User, django_capture_on_commit_callbacks: Any
) -> None:
    # When a claim's "unpaid" is recorded after its payment
    paid_at = timezone.now() - timedelta(days=1)
    services.record_event(
        account=citizen,
        kind=EventKinds.CLAIM_PAID,
        occurred_at=paid_at,
        source="claim:3:paid",
        subject="claim:3",
    )
    with django_capture_on_commit_callbacks() as scheduled:
        event = services.record_event(
            account=citizen,
            kind=EventKinds.CLAIM_UNPAID,
            occurred_at=paid_at - timedelta(days=2),
            source="claim:3:unpaid",
            subject="claim:3",
            amount=500,
            currency="CNY",
            description="Damage",
        )
    # Then what it returns is what is stored, field by field, and one recompute waits
    stored = CreditEvent.objects.get(pk=event.pk)
    assert event.account == citizen
    assert [getattr(event, f.attname) for f in CreditEvent._meta.concrete_fields] == [
        getattr(stored, f.attname) for f in CreditEvent._meta.concrete_fields
    ]
    assert event.settled_at == paid_at
    assert len(scheduled) == 1


def test_events_bulk_record_skips_known_sources_and_settles_earlier_records(citizen):
    # Given an overdue record already written by the daily task
    now = timezone.now()
    overdue = services.record_event(
        account=citizen,
        kind=EventKinds.BILL_OVERDUE,
        occurred_at=now - timedelta(days=9),
        source="bill:7:overdue",
        subject="bill:7",
    )
    late = services.EventRecord(
        account_id=citizen.pk,
        kind=EventKinds.BILL_PAID_LATE,
        occurred_at=now - timedelta(days=2),
        source="bill:7:paid",
        subject="bill:7",
    )
    again = services.EventRecord(
        account_id=citizen.pk,
        kind=EventKinds.BILL_OVERDUE,
        occurred_at=now - timedelta(days=9),
        source="bill:7:overdue",
        subject="bill:7",
    )
    # When the late payment arrives in bulk with a repeat of the overdue record
    ids = services.events_bulk_record(events=[again, late])
    # Then the repeat is the first record, and the late payment settles it
    assert ids[(citizen.pk, "bill:7:overdue")] == overdue.pk
    assert CreditEvent.objects.filter(account=citizen).count() == 2
    overdue.refresh_from_db()
    assert overdue.settled_at == late.occurred_at


@each_recording_path
@pytest.mark.parametrize(
    ("kind", "days_ago", "source", "amount", "error"),
    [
        (EventKinds.NO_SHOW, 1, "bill:7:overdue", None, EventSourceConflict),  # other kind
        ("tax_evasion", 1, "x:1", None, InvalidEvent),
        (EventKinds.NO_SHOW, -1, "booking:9", None, InvalidEvent),  # tomorrow
        (EventKinds.NO_SHOW, 1, "", None, InvalidEvent),
        (EventKinds.NO_SHOW, 1, "x" * 201, None, InvalidEvent),
        (EventKinds.CLAIM_UNPAID, 1, "claim:1", -5, InvalidEvent),
        (EventKinds.CLAIM_UNPAID, 1, "claim:1", True, InvalidEvent),
    ],
)
def test_one_event_and_many_refuse_the_same_event_and_write_nothing(
    citizen: User,
    record_events: RecordPath,
    kind: str,
    days_ago: int,
    source: str,
    amount: Any,
    error: type[Exception],
) -> None:
    # Given a recorded overdue bill
    services.record_event(
        account=citizen,
        kind=EventKinds.BILL_OVERDUE,
        occurred_at=timezone.now() - timedelta(days=3),
        source="bill:7:overdue",
    )
    # When the bad event is recorded, then it is refused and nothing is written
    bad = {"kind": kind, "occurred_at": timezone.now() - timedelta(days=days_ago), "amount": amount}
    with pytest.raises(error):
        record_events(citizen, {source: bad})
    assert list(CreditEvent.objects.values_list("source", flat=True)) == ["bill:7:overdue"]


def test_events_bulk_record_writes_all_of_a_call_or_nothing(citizen: User) -> None:
    fine = services.EventRecord(
        account_id=citizen.pk,
        kind=EventKinds.BOOKING_COMPLETED,
        occurred_at=timezone.now() - timedelta(days=1),
        source="booking:1",
    )
    bad = services.EventRecord(
        account_id=citizen.pk, kind="tax_evasion", occurred_at=timezone.now(), source="x:1"
    )
    with pytest.raises(InvalidEvent):
        services.events_bulk_record(events=[fine, bad])
    assert not CreditEvent.objects.exists()


@each_recording_path
def test_one_event_and_many_repeat_a_recorded_source_as_its_first_event(
    citizen: User, record_events: RecordPath
) -> None:
    first = services.record_event(
        account=citizen,
        kind=EventKinds.BILL_OVERDUE,
        occurred_at=timezone.now() - timedelta(days=3),
        source="bill:7:overdue",
    )
    again = {"kind": EventKinds.BILL_OVERDUE, "occurred_at": timezone.now()}

    assert record_events(citizen, {"bill:7:overdue": again}) == {"bill:7:overdue": first.pk}
    assert CreditEvent.objects.get().occurred_at == first.occurred_at


_S = RecordDisputeStatus


def _dispute_now(citizen: User, event: CreditEvent, status: str, resolved_by: User | None) -> None:
    """Opened through ``dispute_open`` and taken to ``status`` by the services: the
    furnisher's answer, the deadline, the escalation and staff's decision."""
    dispute = services.dispute_open(citizen=citizen, event=event, reason="Not mine.")
    if status in (_S.OPEN, _S.ESCALATED) and dispute.status == status:
        return
    if status == _S.REMOVED_UNANSWERED:
        services.disputes_remove_unanswered(at=dispute.opened_at + timedelta(days=30))
        return
    if status == _S.CORRECTED:
        services.dispute_correct(dispute=dispute, furnisher_id=FURNISHER, note="Checked.")
        return
    services.dispute_verify(dispute=dispute, furnisher_id=FURNISHER, note="Checked.")
    if status == _S.VERIFIED:
        return
    services.dispute_escalate(citizen=citizen, dispute=dispute, reason="It is wrong.")
    if status in (_S.UPHELD, _S.REJECTED):
        services.dispute_resolve(
            dispute=dispute, upheld=status == _S.UPHELD, note="Checked.", resolved_by=resolved_by
        )


def _dispute_in_history(
    citizen: User, event: CreditEvent, status: str, resolved_by: User | None
) -> None:
    opened_at = timezone.now() - timedelta(days=40)
    answered = status in (_S.VERIFIED, _S.CORRECTED, _S.ESCALATED, _S.UPHELD, _S.REJECTED)
    escalated = status in (_S.ESCALATED, _S.UPHELD, _S.REJECTED)
    ended = status in (_S.CORRECTED, _S.REMOVED_UNANSWERED, _S.UPHELD, _S.REJECTED)
    resolutions: dict[str, str] = {
        _S.CORRECTED: RecordDisputeResolution.FURNISHER,
        _S.REMOVED_UNANSWERED: RecordDisputeResolution.AUTOMATIC,
        _S.UPHELD: RecordDisputeResolution.STAFF,
        _S.REJECTED: RecordDisputeResolution.STAFF,
    }
    notes: dict[str, str] = {
        _S.UPHELD: "Checked.",
        _S.REJECTED: "Checked.",
        _S.REMOVED_UNANSWERED: services.REMOVED_UNANSWERED_NOTE,
    }
    services.disputes_bulk_record(
        disputes=[
            services.DisputeRecord(
                event_id=event.pk,
                citizen_id=citizen.pk,
                reason="Not mine.",
                opened_at=opened_at,
                status=status,
                answer_note="Checked." if answered else "",
                answered_at=opened_at + timedelta(days=3) if answered else None,
                escalated_at=opened_at + timedelta(days=4) if escalated else None,
                escalation_reason="It is wrong." if escalated else "",
                resolved_at=opened_at + timedelta(days=30) if ended else None,
                resolution=resolutions.get(status, ""),
                resolution_note=notes.get(status, ""),
                resolved_by_id=(
                    resolved_by.pk
                    if status in (_S.UPHELD, _S.REJECTED) and resolved_by is not None
                    else None
                ),
            )
        ]
    )


DisputePath = Callable[[User, CreditEvent, str, User | None], None]

each_dispute_path = pytest.mark.parametrize(
    "dispute", [_dispute_now, _dispute_in_history], ids=["one", "bulk"]
)


@each_dispute_path
@pytest.mark.parametrize(
    ("status", "event_status", "counts"),
    [
        (_S.OPEN, EventStatus.DISPUTED, True),
        (_S.VERIFIED, EventStatus.ACTIVE, True),
        (_S.CORRECTED, EventStatus.REMOVED, False),
        (_S.REMOVED_UNANSWERED, EventStatus.REMOVED, False),
        (_S.ESCALATED, EventStatus.DISPUTED, True),
        (_S.UPHELD, EventStatus.REMOVED, False),
        (_S.REJECTED, EventStatus.ACTIVE, True),
    ],
)
def test_each_state_of_a_dispute_leaves_its_event_so(
    citizen: User,
    record: Any,
    dispute: DisputePath,
    status: str,
    event_status: str,
    counts: bool,
) -> None:
    # Given an unpaid claim's record, furnished by a merchant
    event = record(citizen, EventKinds.CLAIM_UNPAID, days_ago=50, furnisher_id=FURNISHER)
    staff = UserFactory.create(is_staff=True)
    # When it is disputed and the dispute gets to this state
    dispute(citizen, event, status, staff)
    # Then the dispute is in it, and the event counts, is disputed or removed accordingly
    stored = Dispute.objects.get(event=event)
    decided = status in (_S.UPHELD, _S.REJECTED)
    assert (stored.status, stored.citizen, stored.reason) == (status, citizen, "Not mine.")
    assert (stored.furnisher_id, stored.respond_by) == (
        FURNISHER,
        stored.opened_at + timedelta(days=30),
    )
    assert (stored.resolved_by, stored.resolution_note != "") == (
        (staff, True) if decided else (None, status == _S.REMOVED_UNANSWERED)
    )
    assert stored.can_escalate == (status == _S.VERIFIED)
    event.refresh_from_db()
    assert event.status == event_status
    assert selectors.event_counts(event, at=timezone.now()) is counts


@each_dispute_path
def test_an_event_is_disputed_once_whichever_way(
    citizen: User, record: Any, dispute: DisputePath
) -> None:
    event = record(citizen, EventKinds.CLAIM_UNPAID, days_ago=20)
    services.dispute_open(citizen=citizen, event=event, reason="Not mine.")

    with pytest.raises(AlreadyDisputed):
        dispute(citizen, event, RecordDisputeStatus.OPEN, None)
    assert Dispute.objects.count() == 1


@each_dispute_path
def test_a_removed_record_cannot_be_disputed_again_whichever_way(
    citizen: User, record: Any, dispute: DisputePath
) -> None:
    # Given a record removed by an upheld dispute
    event = record(citizen, EventKinds.NO_SHOW)
    opened = services.dispute_open(citizen=citizen, event=event, reason="I was there.")
    services.dispute_resolve(dispute=opened, upheld=True, note="", resolved_by=None)
    # When it is disputed again, then that is refused
    with pytest.raises(AlreadyDisputed):
        dispute(citizen, event, RecordDisputeStatus.OPEN, None)
    assert Dispute.objects.count() == 1


@each_dispute_path
def test_only_its_own_citizen_disputes_an_event_whichever_way(
    citizen: User, other_citizen: User, record: Any, dispute: DisputePath
) -> None:
    event = record(other_citizen, EventKinds.NO_SHOW)

    with pytest.raises(CreditEvent.DoesNotExist):
        dispute(citizen, event, RecordDisputeStatus.OPEN, None)
    assert not Dispute.objects.exists()
    event.refresh_from_db()
    assert event.status == EventStatus.ACTIVE


def test_disputes_bulk_record_refuses_a_second_dispute_of_an_event(citizen, record):
    event = record(citizen, EventKinds.CLAIM_UNPAID, days_ago=20)
    services.dispute_open(citizen=citizen, event=event, reason="Not mine.")
    again = services.DisputeRecord(
        event_id=event.pk, citizen_id=citizen.pk, reason="Still not.", opened_at=timezone.now()
    )
    with pytest.raises(AlreadyDisputed):
        services.disputes_bulk_record(disputes=[again])
    assert Dispute.objects.count() == 1


def test_an_event_recorded_without_its_moment_happened_now(citizen: User) -> None:
    # Given a pinned clock
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        # When an event is recorded without occurred_at
        event = services.record_event(account=citizen, kind=EventKinds.NO_SHOW, source="b:1")
    # Then it happened, and counts from, that moment
    assert event.occurred_at == moment
    assert event.counts_until == moment + timedelta(days=EVENT_WINDOW_DAYS[EventKinds.NO_SHOW])


def _outbox_version(citizen: User) -> int:
    row = RecomputeWanted.objects.filter(account_id=citizen.pk).first()
    return 0 if row is None else row.version


@pytest.mark.parametrize(
    "path",
    [
        ("verify", "escalate", "uphold"),
        ("verify", "escalate", "reject"),
        ("correct",),
        ("remove",),
    ],
    ids=lambda path: "-".join(path),
)
def test_every_move_of_a_dispute_wants_a_recompute_in_its_transaction(
    citizen: User, record: Any, path: tuple[str, ...]
) -> None:
    # Given a furnished record (no relay runs: the outbox rows stay to be counted)
    event = services.record_event(
        account=citizen,
        kind=EventKinds.NO_SHOW,
        occurred_at=timezone.now() - timedelta(days=2),
        source="booking:outbox",
        furnisher_id=FURNISHER,
    )
    RecomputeWanted.objects.all().delete()
    # When it is disputed, then each move bumps the citizen's outbox row
    dispute = services.dispute_open(citizen=citizen, event=event, reason="No.")
    assert _outbox_version(citizen) == 1
    moves: dict[str, Callable[[], object]] = {
        "verify": lambda: services.dispute_verify(
            dispute=dispute, furnisher_id=FURNISHER, note="Yes."
        ),
        "correct": lambda: services.dispute_correct(dispute=dispute, furnisher_id=FURNISHER),
        "escalate": lambda: services.dispute_escalate(citizen=citizen, dispute=dispute),
        "uphold": lambda: services.dispute_resolve(
            dispute=dispute, upheld=True, note="", resolved_by=None
        ),
        "reject": lambda: services.dispute_resolve(
            dispute=dispute, upheld=False, note="", resolved_by=None
        ),
        "remove": lambda: services.disputes_remove_unanswered(
            at=timezone.now() + timedelta(days=31)
        ),
    }
    for number, move in enumerate(path, start=2):
        moves[move]()
        assert _outbox_version(citizen) == number, move
    # And a refused move writes nothing
    with pytest.raises((DisputeNotOpen, DisputeNotEscalatable)):
        services.dispute_verify(dispute=dispute, furnisher_id=FURNISHER, note="Again.")
    assert _outbox_version(citizen) == len(path) + 1


def test_another_merchant_cannot_answer_a_dispute(citizen: User, record: Any) -> None:
    event = record(citizen, EventKinds.NO_SHOW, furnisher_id=FURNISHER)
    dispute = services.dispute_open(citizen=citizen, event=event, reason="No.")
    with pytest.raises(Dispute.DoesNotExist):
        services.dispute_correct(dispute=dispute, furnisher_id=uuid.uuid4())
    dispute.refresh_from_db()
    assert (dispute.status, dispute.answer_note) == (RecordDisputeStatus.OPEN, "")

"""Disputes of records answered by the merchant that furnished them: the citizen disputes
(``/me/disputes``), the merchant verifies or corrects (``/merchant/disputes``), the
citizen may escalate a verified record once, staff decide escalated ones, and a dispute
nobody answers within 30 days removes its record. The record counts meanwhile."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import Merchant
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring import tasks as scoring_tasks
from scoring.errors import DisputeNotOpen
from scoring.facts import EventKinds
from scoring.models import CreditEvent, Dispute, EventStatus, RecordDisputeStatus
from scoring.subjects import bill_overdue_source, bill_subject, booking_subject, claim_subject
from tests.concurrency import run_together
from tests.factories import UserFactory
from wallet.models import User

pytestmark = pytest.mark.django_db

MY_DISPUTES = "/api/v1/me/disputes"
MY_EVENTS = "/api/v1/me/events"
MERCHANT_DISPUTES = "/api/v1/merchant/disputes"
BILL_ID = uuid.UUID("00000000-0000-4000-8000-0000000000b1")
BOOKING_ID = uuid.UUID("00000000-0000-4000-8000-0000000000b2")


def escalate_url(dispute_id: str) -> str:
    return f"{MY_DISPUTES}/{dispute_id}/escalate"


def answer_url(dispute_id: str, answer: str) -> str:
    return f"{MERCHANT_DISPUTES}/{dispute_id}/{answer}"


def score_of(citizen: User) -> int:
    snapshot = scoring_services.score_fresh(account_id=citizen.pk)
    return snapshot.score


@pytest.fixture
def overdue_bill(
    citizen: User, hotel: Merchant, django_capture_on_commit_callbacks: Any
) -> CreditEvent:
    """A bill overdue record the hotel furnished, 20 days old: the citizen scores 535
    while it counts and 560 without it."""
    with django_capture_on_commit_callbacks(execute=True):
        return scoring_services.record_event(
            account=citizen,
            kind=EventKinds.BILL_OVERDUE,
            occurred_at=timezone.now() - timedelta(days=20),
            source=bill_overdue_source(BILL_ID),
            subject=bill_subject(BILL_ID),
            amount=12_000,
            currency="CNY",
            description="Harbour Hotel bill",
            furnisher_id=hotel.pk,
        )


@pytest.fixture
def dispute_of(
    citizen_api: APIClient, django_capture_on_commit_callbacks: Any
) -> Callable[[CreditEvent], dict[str, Any]]:
    def open_(event: CreditEvent) -> dict[str, Any]:
        with django_capture_on_commit_callbacks(execute=True):
            response = citizen_api.post(
                MY_DISPUTES, {"event_id": str(event.pk), "reason": "I paid it at the desk."}
            )
        assert response.status_code == 201, response.json()
        return response.json()

    return open_


def my_event(citizen_api: APIClient, event: CreditEvent) -> dict[str, Any]:
    [row] = [
        row for row in citizen_api.get(MY_EVENTS).json()["results"] if row["id"] == str(event.pk)
    ]
    return row


def test_a_dispute_goes_to_the_furnisher_and_the_record_counts_meanwhile(
    citizen: User,
    citizen_api: APIClient,
    hotel_api: APIClient,
    overdue_bill: CreditEvent,
    dispute_of: Callable[[CreditEvent], dict[str, Any]],
) -> None:
    assert score_of(citizen) == 535
    # When the citizen disputes the hotel's record
    opened = dispute_of(overdue_bill)
    # Then the dispute is open, to be answered within 30 days, and the record still counts
    dispute = Dispute.objects.get(pk=opened["id"])
    assert opened == {
        "id": str(dispute.pk),
        "event_id": str(overdue_bill.pk),
        "event_kind": "bill_overdue",
        "reason": "I paid it at the desk.",
        "status": "open",
        "opened_at": opened["opened_at"],
        "respond_by": (dispute.opened_at + timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        "answer_note": "",
        "answered_at": None,
        "escalated_at": None,
        "escalation_reason": "",
        "resolved_at": None,
        "resolution_note": "",
        "resolution": "",
        "resolved_automatically": False,
        "can_escalate": False,
    }
    row = my_event(citizen_api, overdue_bill)
    assert (row["status"], row["counts"]) == ("disputed", True)
    assert score_of(citizen) == 535
    # And the hotel sees it, with the record it furnished and nothing else
    listed = hotel_api.get(MERCHANT_DISPUTES).json()
    assert listed["count"] == 1
    assert listed["results"] == [
        {
            "id": str(dispute.pk),
            "status": "open",
            "reason": "I paid it at the desk.",
            "opened_at": opened["opened_at"],
            "respond_by": opened["respond_by"],
            "answer_note": "",
            "answered_at": None,
            "record": {
                "id": str(overdue_bill.pk),
                "kind": "bill_overdue",
                "occurred_at": listed["results"][0]["record"]["occurred_at"],
                "amount": 12_000,
                "currency": "CNY",
                "description": "Harbour Hotel bill",
                "bill_id": str(BILL_ID),
                "booking_id": None,
                "claim_id": None,
            },
        }
    ]


def test_dispute_and_wait_removes_the_record_after_30_days_unanswered(
    citizen: User,
    citizen_api: APIClient,
    hotel_api: APIClient,
    overdue_bill: CreditEvent,
    dispute_of: Callable[[CreditEvent], dict[str, Any]],
    travel: Callable[[timedelta], None],
    django_capture_on_commit_callbacks: Any,
) -> None:
    opened = dispute_of(overdue_bill)
    # When 29 days pass and the sweep runs: nothing changes, the record counts
    travel(timedelta(days=29))
    assert scoring_tasks.remove_unanswered_disputes.delay().get() == 0
    assert my_event(citizen_api, overdue_bill)["counts"] is True
    assert score_of(citizen) == 535
    # When the 30 days are over (staff said nothing all along) and the sweep runs
    travel(timedelta(days=1, minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert scoring_tasks.remove_unanswered_disputes.delay().get() == 1
    # Then the record is removed unanswered (not upheld by staff) and the score recomputed
    [shown] = citizen_api.get(MY_DISPUTES).json()["results"]
    assert (shown["id"], shown["status"], shown["resolution"], shown["can_escalate"]) == (
        opened["id"],
        "removed_unanswered",
        "automatic",
        False,
    )
    assert shown["resolved_automatically"] is True
    assert (my_event(citizen_api, overdue_bill)["counts"], score_of(citizen)) == (False, 560)
    # And the hotel can no longer answer it
    response = hotel_api.post(answer_url(opened["id"], "verify"), {"note": "We are right."})
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "dispute_not_open"
    assert Dispute.objects.get(pk=opened["id"]).answer_note == ""
    # And the sweep again changes nothing
    assert scoring_tasks.remove_unanswered_disputes.delay().get() == 0


def test_an_answer_after_the_deadline_removes_the_record_and_is_refused(
    citizen: User,
    hotel_api: APIClient,
    overdue_bill: CreditEvent,
    dispute_of: Callable[[CreditEvent], dict[str, Any]],
    travel: Callable[[timedelta], None],
) -> None:
    opened = dispute_of(overdue_bill)
    travel(timedelta(days=30, minutes=1))
    # When the hotel answers after respond_by, before any sweep ran
    response = hotel_api.post(answer_url(opened["id"], "verify"), {"note": "We are right."})
    # Then it is refused and the record is removed unanswered all the same
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "dispute_not_open"
    dispute = Dispute.objects.select_related("event").get(pk=opened["id"])
    assert (dispute.status, dispute.answer_note, dispute.event.status) == (
        RecordDisputeStatus.REMOVED_UNANSWERED,
        "",
        EventStatus.REMOVED,
    )


@pytest.mark.parametrize("upheld", [True, False])
def test_verify_then_escalate_then_staff_decide(
    citizen: User,
    citizen_api: APIClient,
    hotel_api: APIClient,
    overdue_bill: CreditEvent,
    dispute_of: Callable[[CreditEvent], dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
    upheld: bool,
) -> None:
    opened = dispute_of(overdue_bill)
    # When the hotel verifies its record
    with django_capture_on_commit_callbacks(execute=True):
        response = hotel_api.post(
            answer_url(opened["id"], "verify"), {"note": "Unpaid: see invoice 42."}
        )
    # Then the record stands (counting, no longer marked disputed) and the citizen may
    # escalate
    assert response.status_code == 200, response.json()
    answered = response.json()
    assert (answered["status"], answered["answer_note"]) == ("verified", "Unpaid: see invoice 42.")
    assert answered["answered_at"] is not None
    [shown] = citizen_api.get(MY_DISPUTES).json()["results"]
    assert (shown["status"], shown["answer_note"], shown["can_escalate"]) == (
        "verified",
        "Unpaid: see invoice 42.",
        True,
    )
    row = my_event(citizen_api, overdue_bill)
    assert (row["status"], row["counts"]) == ("active", True)
    assert scoring_selectors.features_current(account=citizen).open_disputes == 0
    # And the hotel cannot answer twice
    again = hotel_api.post(answer_url(opened["id"], "correct"), {"note": "Oops."})
    assert again.status_code == 409, again.json()
    assert again.json()["code"] == "dispute_not_open"
    # When the citizen escalates it
    with django_capture_on_commit_callbacks(execute=True):
        response = citizen_api.post(escalate_url(opened["id"]), {"reason": "I have a receipt."})
    assert response.status_code == 200, response.json()
    escalated = response.json()
    assert (escalated["status"], escalated["can_escalate"]) == ("escalated", False)
    assert escalated["escalated_at"] is not None
    assert escalated["escalation_reason"] == "I have a receipt."
    assert (my_event(citizen_api, overdue_bill)["status"], score_of(citizen)) == ("disputed", 535)
    # And a second escalation is refused, changing nothing
    twice = citizen_api.post(escalate_url(opened["id"]), {"reason": "Again."})
    assert twice.status_code == 409, twice.json()
    assert twice.json()["code"] == "dispute_not_escalatable"
    assert Dispute.objects.get(pk=opened["id"]).escalation_reason == "I have a receipt."
    # When staff decide
    staff = UserFactory.create(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        scoring_services.dispute_resolve(
            dispute=Dispute.objects.get(pk=opened["id"]),
            upheld=upheld,
            note="Receipt checked.",
            resolved_by=staff,
        )
    # Then the record is removed (upheld) or stands (rejected), and the score follows
    [shown] = citizen_api.get(MY_DISPUTES).json()["results"]
    assert (shown["status"], shown["resolution"], shown["resolution_note"]) == (
        "upheld" if upheld else "rejected",
        "staff",
        "Receipt checked.",
    )
    row = my_event(citizen_api, overdue_bill)
    assert (row["status"], row["counts"]) == (("removed", False) if upheld else ("active", True))
    assert score_of(citizen) == (560 if upheld else 535)


def test_correct_removes_the_record_and_recomputes_the_score(
    citizen: User,
    citizen_api: APIClient,
    hotel_api: APIClient,
    overdue_bill: CreditEvent,
    dispute_of: Callable[[CreditEvent], dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    opened = dispute_of(overdue_bill)
    with django_capture_on_commit_callbacks(execute=True):
        response = hotel_api.post(answer_url(opened["id"], "correct"), {"note": "Our mistake."})
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["answer_note"]) == (
        "corrected",
        "Our mistake.",
    )
    [shown] = citizen_api.get(MY_DISPUTES).json()["results"]
    assert (shown["status"], shown["resolution"], shown["can_escalate"]) == (
        "corrected",
        "furnisher",
        False,
    )
    assert shown["resolved_at"] is not None
    assert my_event(citizen_api, overdue_bill)["counts"] is False
    # The outbox's relay ran after the commit: the current snapshot is already 560
    current = scoring_selectors.score_current(account=citizen)
    assert current is not None
    assert current.score == 560
    # And a corrected dispute cannot be escalated
    response = citizen_api.post(escalate_url(opened["id"]), {})
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "dispute_not_escalatable"


def test_an_open_dispute_cannot_be_escalated_and_a_record_is_disputed_once(
    citizen_api: APIClient,
    overdue_bill: CreditEvent,
    dispute_of: Callable[[CreditEvent], dict[str, Any]],
) -> None:
    opened = dispute_of(overdue_bill)
    response = citizen_api.post(escalate_url(opened["id"]), {})
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "dispute_not_escalatable"
    response = citizen_api.post(
        MY_DISPUTES, {"event_id": str(overdue_bill.pk), "reason": "Once more."}
    )
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "already_disputed"
    assert Dispute.objects.get().status == RecordDisputeStatus.OPEN


def test_a_merchant_sees_and_answers_only_disputes_of_what_it_furnished(
    citizen: User,
    other_citizen: User,
    citizen_api: APIClient,
    hotel: Merchant,
    hotel_api: APIClient,
    other_hotel: Merchant,
    other_hotel_api: APIClient,
    overdue_bill: CreditEvent,
    dispute_of: Callable[[CreditEvent], dict[str, Any]],
) -> None:
    # Given a dispute of the hotel's record and one of the other hotel's no-show
    opened = dispute_of(overdue_bill)
    no_show = scoring_services.record_event(
        account=citizen,
        kind=EventKinds.NO_SHOW,
        occurred_at=timezone.now() - timedelta(days=5),
        source=booking_subject(BOOKING_ID),
        subject=booking_subject(BOOKING_ID),
        furnisher_id=other_hotel.pk,
    )
    other = dispute_of(no_show)
    # Then each merchant lists only its own
    assert [row["id"] for row in hotel_api.get(MERCHANT_DISPUTES).json()["results"]] == [
        opened["id"]
    ]
    [theirs] = other_hotel_api.get(MERCHANT_DISPUTES).json()["results"]
    assert theirs["id"] == other["id"]
    assert (theirs["record"]["booking_id"], theirs["record"]["bill_id"]) == (str(BOOKING_ID), None)
    # And answering another merchant's dispute is 404, changing nothing
    for answer in ("verify", "correct"):
        response = hotel_api.post(answer_url(other["id"], answer), {"note": "Not ours."})
        assert response.status_code == 404, response.json()
    assert Dispute.objects.get(pk=other["id"]).status == RecordDisputeStatus.OPEN
    # And a citizen cannot escalate another citizen's dispute
    stranger = APIClient()
    stranger.force_authenticate(other_citizen)
    assert stranger.post(escalate_url(opened["id"]), {}).status_code == 404


def test_the_list_filters_by_status_and_a_verify_needs_a_note(
    hotel_api: APIClient,
    overdue_bill: CreditEvent,
    dispute_of: Callable[[CreditEvent], dict[str, Any]],
) -> None:
    opened = dispute_of(overdue_bill)
    for note in ({}, {"note": ""}, {"note": "x" * 2001}):
        response = hotel_api.post(answer_url(opened["id"], "verify"), note)
        assert response.status_code == 400, response.json()
        assert response.json()["errors"][0]["field"] == "note"
    assert Dispute.objects.get().status == RecordDisputeStatus.OPEN
    assert hotel_api.get(MERCHANT_DISPUTES, {"status": "open"}).json()["count"] == 1
    assert hotel_api.get(MERCHANT_DISPUTES, {"status": "verified"}).json()["count"] == 0
    assert hotel_api.get(MERCHANT_DISPUTES, {"status": "nonsense"}).status_code == 400


def test_a_claim_record_names_its_claim(
    citizen: User,
    hotel: Merchant,
    hotel_api: APIClient,
    dispute_of: Callable[[CreditEvent], dict[str, Any]],
) -> None:
    claim_id = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
    unpaid = scoring_services.record_event(
        account=citizen,
        kind=EventKinds.CLAIM_UNPAID,
        occurred_at=timezone.now() - timedelta(days=2),
        source=f"{claim_subject(claim_id)}:unpaid",
        subject=claim_subject(claim_id),
        amount=5_000,
        currency="CNY",
        furnisher_id=hotel.pk,
    )
    dispute_of(unpaid)
    [row] = hotel_api.get(MERCHANT_DISPUTES).json()["results"]
    record = row["record"]
    assert (record["claim_id"], record["bill_id"], record["booking_id"]) == (
        str(claim_id),
        None,
        None,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_answer_and_the_sweep_at_the_same_instant_end_in_one_state(
    citizen: User, hotel: Merchant, travel: Callable[[timedelta], None]
) -> None:
    # Given an open dispute whose deadline has just passed
    event = scoring_services.record_event(
        account=citizen,
        kind=EventKinds.NO_SHOW,
        occurred_at=timezone.now() - timedelta(days=2),
        source=booking_subject(BOOKING_ID),
        subject=booking_subject(BOOKING_ID),
        furnisher_id=hotel.pk,
    )
    dispute = scoring_services.dispute_open(citizen=citizen, event=event, reason="No.")
    travel(timedelta(days=30, seconds=1))

    # When the merchant corrects it twice and the sweep runs, all at once
    def work(index: int) -> str:
        if index == 2:
            return f"swept {scoring_services.disputes_remove_unanswered()}"
        try:
            scoring_services.dispute_correct(dispute=dispute, furnisher_id=hotel.pk, note="")
        except DisputeNotOpen:
            return "refused"
        return "corrected"

    results, _ = run_together(3, work)
    # Then it was removed unanswered exactly once, and no answer got through
    stored = Dispute.objects.select_related("event").get(pk=dispute.pk)
    assert (stored.status, stored.event.status) == (
        RecordDisputeStatus.REMOVED_UNANSWERED,
        EventStatus.REMOVED,
    )
    assert results[:2] == ["refused", "refused"]
    assert results[2] in ("swept 0", "swept 1")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_answers_at_the_same_instant_one_wins(citizen: User, hotel: Merchant) -> None:
    event = scoring_services.record_event(
        account=citizen,
        kind=EventKinds.NO_SHOW,
        occurred_at=timezone.now() - timedelta(days=2),
        source=booking_subject(BOOKING_ID),
        subject=booking_subject(BOOKING_ID),
        furnisher_id=hotel.pk,
    )
    dispute = scoring_services.dispute_open(citizen=citizen, event=event, reason="No.")

    def work(index: int) -> str:
        answer = scoring_services.dispute_verify if index == 0 else scoring_services.dispute_correct
        try:
            answer(dispute=dispute, furnisher_id=hotel.pk, note="Answer.")
        except DisputeNotOpen:
            return "refused"
        return "answered"

    results, _ = run_together(2, work)
    assert sorted(results) == ["answered", "refused"]
    stored = Dispute.objects.select_related("event").get(pk=dispute.pk)
    expected_event = {
        RecordDisputeStatus.VERIFIED: EventStatus.ACTIVE,
        RecordDisputeStatus.CORRECTED: EventStatus.REMOVED,
    }
    assert stored.event.status == expected_event[RecordDisputeStatus(stored.status)]

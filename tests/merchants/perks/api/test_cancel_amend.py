"""A merchant cancels a stay before it starts, or moves its dates within the perk's
bounds: the hold is released (or follows the new dates), nothing is recorded on the
guest's score, and ``booking.cancelled`` is written in the same transaction. Once the
check-in date has come or the guest was checked in, both answer 409 ``stay_started``;
every refusal leaves the booking, the hold, the ledger, the score and the outbox as
they were.

Dates are the deployment's (``TIME_ZONE``, Shanghai here: UTC+8), the clock pinned at
each moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from common.models import OutboxEvent
from merchants.models import Merchant
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, BookingStatus
from merchants.perks.tasks import place_due_holds
from scoring.models import CreditEvent, ScoreSnapshot
from tests.conftest import client_for
from tests.merchants.conftest import BOOKINGS_URL, assert_ledger_consistent
from tests.merchants.perks.api.test_holds import (
    BOOKED_AT,
    DEPOSIT,
    TODAY,
    booked,
    booking_of,
    check_in,
    consent_of,
    end_of_day,
    local,
    wallet,
)
from tests.money import top_up_paid
from wallet.models import Hold, HoldStatus, User

pytestmark = pytest.mark.django_db

TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def _in_shanghai() -> Iterator[None]:
    with override_settings(TIME_ZONE="Asia/Shanghai", CELERY_TIMEZONE="Asia/Shanghai"):
        yield


@pytest.fixture
def at() -> Iterator[Callable[[datetime], None]]:
    """``at(moment)`` stops the clock at ``moment``; the test starts at ``BOOKED_AT``."""
    travellers: list[time_machine.travel] = []

    def to(moment: datetime) -> None:
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        travellers.append(traveller)

    to(BOOKED_AT)
    yield to
    while travellers:
        travellers.pop().stop()


def cancel(client: APIClient, booking_id: str, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"{BOOKINGS_URL}/{booking_id}/cancel", headers=headers)


def amend(client: APIClient, booking_id: str, body: dict[str, Any]) -> Any:
    return client.patch(f"{BOOKINGS_URL}/{booking_id}", body, format="json")


def state(citizen: User) -> dict[str, Any]:
    """Everything a cancel or an amendment may change: the bookings, the holds, the
    guest's wallet, their score's records and snapshots, and the outbox."""
    return {
        "bookings": sorted(
            Booking.objects.values_list(
                "id",
                "status",
                "cancel_reason",
                "cancelled_at",
                "check_in",
                "check_out",
                "hold_id",
                "hold_failed_at",
                "checked_in_at",
                "completed_at",
            )
        ),
        "holds": sorted(Hold.objects.values_list("id", "status", "amount", "expires_at")),
        "wallet": wallet(citizen),
        "records": sorted(CreditEvent.objects.values_list("id", "kind", "status", "counts_until")),
        "snapshots": ScoreSnapshot.objects.count(),
        "events": sorted(OutboxEvent.objects.values_list("id", "type")),
    }


def cancelled_event(booking_id: str, reference: str, reason: str, moment: str) -> dict[str, Any]:
    return {
        "object": "booking",
        "id": booking_id,
        "reference": reference,
        "cancel_reason": reason,
        "cancelled_at": moment,
    }


# --- Cancel ----------------------------------------------------------------------------


def test_cancelling_before_check_in_releases_the_hold_records_nothing_and_emits_the_event(
    citizen: User, hotel: Merchant, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a guest with 100,000 (and a score) and a stay of three nights from tomorrow, its
    # deposit held at booking
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TOMORROW)
    hold = Hold.objects.get()
    assert wallet(citizen) == (100_000, DEPOSIT)
    records = sorted(CreditEvent.objects.values_list("id", "kind", "status", "counts_until"))
    snapshots = ScoreSnapshot.objects.count()
    # When the hotel cancels it at 23:59 the evening before check-in
    at(local(TODAY, 23, 59))
    response = cancel(hotel_api, booking_id)
    # Then it is cancelled by the merchant
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {
        k: body[k]
        for k in ("id", "status", "cancel_reason", "cancelled_at", "hold_placed", "hold_due_at")
    } == {
        "id": booking_id,
        "status": "cancelled",
        "cancel_reason": "merchant",
        "cancelled_at": "2026-03-02T23:59:00+08:00",
        "hold_placed": True,
        "hold_due_at": None,
    }
    assert booking_of(hotel_api, booking_id) == body
    # And the deposit is the guest's again
    hold.refresh_from_db()
    assert (hold.status, hold.resolved_at) == (HoldStatus.RELEASED, local(TODAY, 23, 59))
    assert wallet(citizen) == (100_000, 0)
    # And nothing was recorded on the guest's score
    assert (
        sorted(CreditEvent.objects.values_list("id", "kind", "status", "counts_until")) == records
    )
    assert ScoreSnapshot.objects.count() == snapshots
    # And the hotel is told, once
    [event] = OutboxEvent.objects.all()
    assert (event.type, event.merchant_id, event.occurred_at, event.relayed_at) == (
        "booking.cancelled",
        hotel.pk,
        local(TODAY, 23, 59),
        None,
    )
    assert event.data == cancelled_event(booking_id, "R-1", "merchant", "2026-03-02T23:59:00+08:00")
    # And the guest sees it cancelled
    [mine] = client_for(citizen).get("/api/v1/me/bookings").json()["results"]
    assert (mine["status"], mine["cancel_reason"]) == ("cancelled", "merchant")
    assert_ledger_consistent()
    # When the hotel cancels it again (no key), checks it in, or completes it
    before = state(citizen)
    again = cancel(hotel_api, booking_id)
    checked = check_in(hotel_api, booking_id)
    at(local(TOMORROW, 10, 0))
    completed = hotel_api.post(
        f"{BOOKINGS_URL}/{booking_id}/complete", {"outcome": "no_show"}, format="json"
    )
    # Then each is refused, and nothing changed
    assert (again.status_code, again.json()["code"], again.json()["detail"]) == (
        409,
        "booking_not_confirmed",
        "This booking is cancelled.",
    )
    assert (checked.status_code, checked.json()["code"]) == (409, "booking_not_confirmed")
    assert (completed.status_code, completed.json()["code"]) == (409, "booking_not_confirmed")
    assert state(citizen) == before


def test_cancelling_a_stay_booked_ahead_holds_nothing_then_or_later(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay of 1 May booked in March, nothing held yet
    top_up_paid(citizen, 50_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), date(2026, 5, 1))
    # When the hotel cancels it
    response = cancel(hotel_api, booking_id)
    # Then it is cancelled, with no hold placed or to place
    assert response.status_code == 200, response.json()
    assert {k: response.json()[k] for k in ("status", "hold_placed", "hold_due_at")} == {
        "status": "cancelled",
        "hold_placed": False,
        "hold_due_at": None,
    }
    # And when its hold would have fallen due, nothing is held
    at(local(date(2026, 4, 29), 0, 5))
    assert place_due_holds() == 0
    assert not Hold.objects.exists()
    assert wallet(citizen) == (50_000, 0)
    assert OutboxEvent.objects.get().data["cancel_reason"] == "merchant"


def test_a_stay_whose_hold_failed_can_be_cancelled_before_check_in(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay of 1 May whose hold failed (the guest has 10,000)
    top_up_paid(citizen, 10_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), date(2026, 5, 1))
    at(local(date(2026, 4, 29), 0, 15))
    assert place_due_holds() == 0
    # When the hotel cancels it the day after
    at(local(date(2026, 4, 30), 9, 0))
    response = cancel(hotel_api, booking_id)
    # Then it is cancelled, its failure cleared
    assert response.status_code == 200, response.json()
    stored = Booking.objects.get(pk=booking_id)
    assert (stored.status, stored.cancel_reason, stored.hold_failed_at) == (
        BookingStatus.CANCELLED,
        "merchant",
        None,
    )
    assert wallet(citizen) == (10_000, 0)


@pytest.mark.parametrize(
    ("moment", "checked_in_first"),
    [
        (local(TOMORROW, 0, 0), False),  # check-in day has begun (local)
        (local(TOMORROW + timedelta(days=3), 12, 0), False),  # check-out day
        (local(TODAY, 12, 0), True),  # the guest was checked in early
    ],
    ids=["check-in-day", "check-out-day", "checked-in"],
)
def test_a_stay_that_started_cannot_be_cancelled_and_nothing_changes(
    citizen: User,
    hotel_api: APIClient,
    at: Callable[[datetime], None],
    moment: datetime,
    checked_in_first: bool,
) -> None:
    # Given a stay of three nights from tomorrow, its deposit held
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TOMORROW)
    if checked_in_first:
        assert check_in(hotel_api, booking_id).status_code == 200
    before = state(citizen)
    # When the hotel cancels it once the stay has started
    at(moment)
    response = cancel(hotel_api, booking_id, key="cancel-1")
    # Then it is refused by name, and nothing changed: booking, hold, ledger, outbox
    assert response.status_code == 409, response.json()
    assert (response.json()["code"], response.json()["title"]) == (
        "stay_started",
        "Stay already started",
    )
    assert state(citizen) == before
    assert Hold.objects.get().status == HoldStatus.ACTIVE
    assert not OutboxEvent.objects.exists()
    assert_ledger_consistent()


def test_a_cancel_with_an_idempotency_key_takes_effect_once(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay from tomorrow, its deposit held
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TOMORROW)
    # When the hotel's system sends the cancel twice with one key
    first = cancel(hotel_api, booking_id, key="cancel-R-1")
    second = cancel(hotel_api, booking_id, key="cancel-R-1")
    # Then the second replays the first answer, and the stay was cancelled once
    assert first.status_code == 200, first.json()
    assert (second.status_code, second.json()) == (200, first.json())
    assert second.headers["Idempotent-Replayed"] == "true"
    assert OutboxEvent.objects.filter(type="booking.cancelled").count() == 1
    assert wallet(citizen) == (100_000, 0)


def test_another_merchants_booking_is_not_found_and_nothing_changes(
    citizen: User,
    hotel_api: APIClient,
    other_hotel_api: APIClient,
    at: Callable[[datetime], None],
) -> None:
    # Given the hotel's stay from tomorrow, its deposit held
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TOMORROW)
    before = state(citizen)
    # When another hotel cancels or amends it
    cancelled = cancel(other_hotel_api, booking_id)
    amended = amend(other_hotel_api, booking_id, {"check_out": str(TOMORROW + timedelta(days=5))})
    # Then it is not found, and nothing changed
    assert (cancelled.status_code, cancelled.json()["code"]) == (404, "not_found")
    assert (amended.status_code, amended.json()["code"]) == (404, "not_found")
    assert state(citizen) == before


def test_revoking_a_consent_tells_the_merchant_of_each_stay_it_cancels(
    citizen: User, hotel: Merchant, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given two stays not started and one started, under one consent
    top_up_paid(citizen, 200_000)
    consent = consent_of(citizen, hotel_api)
    held = booked(hotel_api, consent, TOMORROW)
    later = booked(hotel_api, consent, TODAY + timedelta(days=30))
    started = booked(hotel_api, consent, TOMORROW)
    assert check_in(hotel_api, started).status_code == 200
    # When the guest revokes the consent
    at(local(TODAY, 18, 0))
    assert client_for(citizen).post(f"/api/v1/me/consents/{consent}/revoke").status_code == 200
    # Then the hotel is told of the two stays cancelled, not of the one that began
    events = OutboxEvent.objects.filter(type="booking.cancelled")
    assert {event.merchant_id for event in events} == {hotel.pk}
    assert sorted((event.data["id"], event.data["cancel_reason"]) for event in events) == sorted(
        [(held, "consent_revoked"), (later, "consent_revoked")]
    )
    assert {event.data["cancelled_at"] for event in events} == {"2026-03-02T18:00:00+08:00"}


# --- Amend -----------------------------------------------------------------------------


def test_moving_a_stay_booked_ahead_moves_when_its_deposit_is_held(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay of three nights from 1 May, nothing held yet
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), date(2026, 5, 1))
    # When the hotel moves it to 10-12 May
    response = amend(hotel_api, booking_id, {"check_in": "2026-05-10", "check_out": "2026-05-12"})
    # Then the stay has the new dates, its hold due two days before the new check-in
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {
        k: body[k] for k in ("status", "check_in", "check_out", "hold_placed", "hold_due_at")
    } == {
        "status": "confirmed",
        "check_in": "2026-05-10",
        "check_out": "2026-05-12",
        "hold_placed": False,
        "hold_due_at": "2026-05-08T00:00:00+08:00",
    }
    # And nothing is held on 29 April, and from 8 May until the new claim window ends
    at(local(date(2026, 4, 29), 0, 5))
    assert place_due_holds() == 0
    at(local(date(2026, 5, 8), 0, 5))
    assert place_due_holds() == 1
    assert Hold.objects.get().expires_at == end_of_day(date(2026, 5, 12)) + timedelta(days=17)
    assert not OutboxEvent.objects.exists()


def test_a_longer_stay_keeps_its_hold_until_the_new_claim_window_ends(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay of three nights from tomorrow, its deposit held
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TOMORROW)
    hold = Hold.objects.get()
    # When the hotel adds two nights
    response = amend(hotel_api, booking_id, {"check_out": str(TOMORROW + timedelta(days=5))})
    # Then the same hold holds the deposit, until the end of the new check-out day + 17 days
    assert response.status_code == 200, response.json()
    assert (response.json()["check_in"], response.json()["check_out"]) == (
        "2026-03-03",
        "2026-03-08",
    )
    hold.refresh_from_db()
    assert (hold.status, hold.amount) == (HoldStatus.ACTIVE, DEPOSIT)
    assert hold.expires_at == end_of_day(date(2026, 3, 8)) + timedelta(days=17)
    assert Booking.objects.get(pk=booking_id).hold_id == hold.pk
    assert wallet(citizen) == (100_000, DEPOSIT)
    assert_ledger_consistent()


def test_a_held_stay_moved_weeks_ahead_releases_its_hold_until_it_falls_due_again(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay of three nights from tomorrow, its deposit held
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TOMORROW)
    first = Hold.objects.get()
    # When the hotel moves it three weeks ahead
    response = amend(hotel_api, booking_id, {"check_in": "2026-03-23", "check_out": "2026-03-25"})
    # Then the hold is released: the money is the guest's until two days before
    assert response.status_code == 200, response.json()
    assert {k: response.json()[k] for k in ("hold_placed", "hold_due_at")} == {
        "hold_placed": False,
        "hold_due_at": "2026-03-21T00:00:00+08:00",
    }
    first.refresh_from_db()
    assert first.status == HoldStatus.RELEASED
    assert wallet(citizen) == (100_000, 0)
    # When that day comes
    at(local(date(2026, 3, 21), 0, 5))
    assert place_due_holds() == 1
    # Then it is held again, until the new claim window ends
    second = Hold.objects.get(status=HoldStatus.ACTIVE)
    assert second.pk != first.pk
    assert second.expires_at == end_of_day(date(2026, 3, 25)) + timedelta(days=17)
    assert Booking.objects.get(pk=booking_id).hold_id == second.pk
    assert wallet(citizen) == (100_000, DEPOSIT)
    assert_ledger_consistent()


def test_a_stay_moved_near_is_held_at_once_or_refused_when_the_wallet_cannot(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay of 1 May booked in March, nothing held, for a guest with 10,000
    top_up_paid(citizen, 10_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), date(2026, 5, 1))
    before = state(citizen)
    # When the hotel moves it to tomorrow (the deposit is due at once)
    broke = amend(hotel_api, booking_id, {"check_in": str(TOMORROW), "check_out": "2026-03-05"})
    # Then it is refused for the funds, and nothing changed
    assert (broke.status_code, broke.json()["code"]) == (422, "insufficient_funds")
    assert state(citizen) == before
    # When the guest tops up and the hotel moves it again
    top_up_paid(citizen, 40_000)
    response = amend(hotel_api, booking_id, {"check_in": str(TOMORROW), "check_out": "2026-03-05"})
    # Then the deposit is held now, until the new claim window ends
    assert response.status_code == 200, response.json()
    assert (response.json()["hold_placed"], response.json()["check_in"]) == (True, "2026-03-03")
    hold = Hold.objects.get()
    assert (hold.status, hold.amount) == (HoldStatus.ACTIVE, DEPOSIT)
    assert hold.expires_at == end_of_day(date(2026, 3, 5)) + timedelta(days=17)
    assert wallet(citizen) == (50_000, DEPOSIT)
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (
            {"check_in": "2026-06-01", "check_out": "2026-06-02"},
            422,
            "check_in_too_far",
            "check_in",
        ),
        ({"check_out": "2026-05-01"}, 422, "stay_too_long", "check_out"),
        ({"check_in": "2026-03-01"}, 400, "invalid", "check_in"),
        ({"check_in": "2026-03-10", "check_out": "2026-03-09"}, 400, "invalid", "check_out"),
        ({"check_out": "2026-03-02"}, 400, "invalid", "check_out"),
        ({}, 400, "invalid", "check_in"),
        ({"check_in": "soon"}, 400, "invalid", "check_in"),
    ],
    ids=["too-far", "too-long", "past", "reversed", "before-check-in", "empty", "not-a-date"],
)
def test_an_amendment_outside_the_perks_bounds_or_malformed_changes_nothing(
    citizen: User,
    hotel_api: APIClient,
    at: Callable[[datetime], None],
    body: dict[str, str],
    status: int,
    code: str,
    field: str,
) -> None:
    # Given a stay of three nights from tomorrow, its deposit held (check-in 3 March)
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TOMORROW)
    before = state(citizen)
    # When the hotel moves it beyond the perk's bounds (90 days ahead from today, 30
    # nights), into the past, or sends no date or a malformed one
    response = amend(hotel_api, booking_id, body)
    # Then it is refused, naming the field, and nothing changed
    assert (response.status_code, response.json()["code"]) == (status, code), response.json()
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert state(citizen) == before


def test_a_stay_that_started_or_ended_cannot_be_amended(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given two stays from tomorrow, one checked in early, one cancelled
    top_up_paid(citizen, 100_000)
    consent = consent_of(citizen, hotel_api)
    started = booked(hotel_api, consent, TOMORROW)
    assert check_in(hotel_api, started).status_code == 200
    cancelled = booked(hotel_api, consent, TOMORROW)
    assert cancel(hotel_api, cancelled).status_code == 200
    waiting = booked(hotel_api, consent, TOMORROW)
    before = state(citizen)
    later = {"check_out": str(TOMORROW + timedelta(days=5))}
    # When the hotel moves each (the third on its check-in day)
    started_answer = amend(hotel_api, started, later)
    cancelled_answer = amend(hotel_api, cancelled, later)
    at(local(TOMORROW, 8, 0))
    waiting_answer = amend(hotel_api, waiting, later)
    # Then each is refused, and nothing changed
    assert (started_answer.status_code, started_answer.json()["code"]) == (409, "stay_started")
    assert (cancelled_answer.status_code, cancelled_answer.json()["code"]) == (
        409,
        "booking_not_confirmed",
    )
    assert (waiting_answer.status_code, waiting_answer.json()["code"]) == (409, "stay_started")
    assert state(citizen) == before


def test_the_same_dates_again_change_nothing(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TOMORROW)
    before = state(citizen)
    response = amend(hotel_api, booking_id, {"check_in": str(TOMORROW)})
    assert response.status_code == 200, response.json()
    assert response.json()["check_in"] == str(TOMORROW)
    assert state(citizen) == before


def test_a_cancel_rolled_back_with_its_transaction_leaves_no_event_and_nothing_changed(
    citizen: User, hotel: Merchant, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay from tomorrow, its deposit held
    top_up_paid(citizen, 100_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TOMORROW)
    before = state(citizen)

    # When a caller cancels it inside a transaction that then fails
    class Later(Exception):
        pass

    def cancel_then_fail() -> None:
        with transaction.atomic():
            perks_services.booking_cancel(merchant=hotel, booking_id=booking_id)
            assert OutboxEvent.objects.count() == 1
            raise Later

    with pytest.raises(Later):
        cancel_then_fail()

    # Then the event went with the cancellation: nothing changed
    assert state(citizen) == before
    assert not OutboxEvent.objects.exists()
    assert Hold.objects.get().status == HoldStatus.ACTIVE

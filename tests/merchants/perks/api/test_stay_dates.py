"""An outcome is reported from the check-in date on: a hotel cannot record a no-show or
a damage claim for a stay that has not begun."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.perks.models import Booking, BookingStatus
from scoring.models import CreditEvent
from tests.merchants.conftest import BOOKINGS_URL, booking_body, make_reliable
from wallet.models import Hold, User

pytestmark = pytest.mark.django_db


def book_next_week(hotel_api: APIClient, decision_id: str, deposit: int) -> dict[str, Any]:
    body = booking_body(decision_id, deposit)
    next_week = timezone.localdate() + timedelta(days=7)
    body.update(check_in=str(next_week), check_out=str(next_week + timedelta(days=2)))
    response = hotel_api.post(BOOKINGS_URL, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_no_outcome_before_the_stay_begins(
    citizen: User,
    funded: Callable[[int], Any],
    hotel_api: APIClient,
    decide: Callable[..., dict[str, Any]],
) -> None:
    # Given a refused guest whose whole deposit is held for a stay next week
    funded(50_000)
    decision = decide(citizen, 40_000)
    booking = book_next_week(hotel_api, decision["decision_id"], 40_000)
    # When the hotel reports a no-show today
    response = hotel_api.post(
        f"{BOOKINGS_URL}/{booking['id']}/complete", {"outcome": "no_show"}, format="json"
    )
    # Then it is refused and nothing changed: the stay is open, its deposit still to be
    # held (a week away), no record
    assert response.status_code == 409
    assert response.json()["code"] == "stay_not_started"
    stored = Booking.objects.get(pk=booking["id"])
    assert (stored.status, stored.outcome, stored.hold_amount) == (
        BookingStatus.CONFIRMED,
        "",
        40_000,
    )
    assert stored.hold_id is None
    assert not Hold.objects.exists()
    assert not CreditEvent.objects.filter(account=citizen, kind="no_show").exists()


def test_the_outcome_is_reported_once_the_stay_began(
    citizen: User,
    funded: Callable[[int], Any],
    hotel_api: APIClient,
    decide: Callable[..., dict[str, Any]],
    travel: Callable[[timedelta], None],
) -> None:
    # Given an excellent guest booked for next week with the deposit waived
    make_reliable(citizen)
    funded(10_000)
    decision = decide(citizen, 40_000)
    booking = book_next_week(hotel_api, decision["decision_id"], 40_000)
    assert booking["hold_amount"] == 0
    # When the stay has begun and the hotel reports it completed
    travel(timedelta(days=8))
    response = hotel_api.post(
        f"{BOOKINGS_URL}/{booking['id']}/complete", {"outcome": "ok"}, format="json"
    )
    # Then it is recorded
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["outcome"]) == ("completed", "ok")
    assert CreditEvent.objects.filter(account=citizen, kind="booking_completed").count() == 1


@pytest.mark.parametrize(
    ("check_in_days", "check_out_days", "status", "code", "field"),
    [
        (0, 367, 422, "stay_too_long", "check_out"),  # longer than the perk's 30 nights
        (-2, 1, 400, "invalid", "check_in"),  # began more than a day before booking
        (733, 735, 422, "check_in_too_far", "check_in"),  # beyond the perk's 90 days
        (0, None, 422, "stay_too_long", "check_out"),  # the last day a calendar has
        (0, -1, 400, "invalid", "check_out"),  # check-out before check-in
    ],
)
def test_stays_no_booking_system_means_are_refused_and_nothing_is_held(
    citizen: User,
    funded: Callable[[int], Any],
    hotel_api: APIClient,
    decide: Callable[..., dict[str, Any]],
    check_in_days: int,
    check_out_days: int | None,
    status: int,
    code: str,
    field: str,
) -> None:
    # Given a refused guest, so the whole deposit would be held
    funded(50_000)
    decision = decide(citizen, 40_000)
    today = timezone.localdate()
    body = booking_body(decision["decision_id"], 40_000)
    body["check_in"] = str(today + timedelta(days=check_in_days))
    body["check_out"] = (
        "9999-12-31" if check_out_days is None else str(today + timedelta(days=check_out_days))
    )
    # When the hotel books it
    response = hotel_api.post(BOOKINGS_URL, body, format="json")
    # Then the date is refused by name, and nothing was booked or held
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert Booking.objects.count() == 0
    assert Hold.objects.count() == 0

"""Holds with an end: a stay is booked at most ``booking_max_days_ahead`` days ahead for at
most ``booking_max_nights`` nights; its deposit is held only from two days before
check-in (by the periodic task, or at once when the guest is checked in earlier), and
the hold ends with the claim window; revoking the consent before check-in cancels the
stay and releases its hold.

Dates are the deployment's (``TIME_ZONE``, Shanghai here: UTC+8, so a local day starts
at 16:00 UTC the day before), and the clock is pinned at each moment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings
from rest_framework.test import APIClient

from merchants.models import Consent, Merchant
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, BookingStatus
from merchants.perks.tasks import place_due_holds
from tests.conftest import client_for
from tests.merchants.conftest import (
    BOOKINGS_URL,
    ELIGIBILITY_URL,
    assert_ledger_consistent,
    code_for,
)
from tests.money import top_up_paid
from wallet.models import Hold, HoldStatus, LedgerAccount, User

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEPOSIT = 40_000  # a guest without a record: all of it is held
# Booked on Monday 2 March 2026, 10:00 in Shanghai
BOOKED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
TODAY = BOOKED_AT.date()


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _in_shanghai() -> Iterator[None]:
    with override_settings(TIME_ZONE="Asia/Shanghai", CELERY_TIMEZONE="Asia/Shanghai"):
        yield


@pytest.fixture
def at() -> Iterator[Callable[[datetime], None]]:
    """``at(moment)`` stops the clock at ``moment`` until the next call or the end; the
    test starts at ``BOOKED_AT``."""
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


def consent_of(citizen: User, hotel_api: APIClient) -> str:
    """A live deposit-waiver consent of ``citizen`` to the hotel (from a redeemed code)."""
    response = hotel_api.post(
        ELIGIBILITY_URL,
        {"code": code_for(citizen), "perk": "deposit_waiver", "amount": DEPOSIT},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return str(response.json()["consent_id"])


def book(
    hotel_api: APIClient,
    consent_id: str,
    check_in: date,
    nights: int = 3,
    *,
    deposit: int = DEPOSIT,
    reference: str = "R-1",
) -> Any:
    """Ask for a decision under the consent and book from it; returns the response."""
    decision = hotel_api.post(
        ELIGIBILITY_URL,
        {"consent_id": consent_id, "perk": "deposit_waiver", "amount": deposit},
        format="json",
    )
    assert decision.status_code == 200, decision.json()
    assert decision.json()["held_amount"] == deposit
    return hotel_api.post(
        BOOKINGS_URL,
        {
            "decision_id": decision.json()["decision_id"],
            "reference": reference,
            "check_in": str(check_in),
            "check_out": str(check_in + timedelta(days=nights)),
            "deposit_amount": deposit,
        },
        format="json",
    )


def booked(hotel_api: APIClient, consent_id: str, check_in: date, nights: int = 3) -> str:
    response = book(hotel_api, consent_id, check_in, nights)
    assert response.status_code == 201, response.json()
    return str(response.json()["id"])


def check_in(hotel_api: APIClient, booking_id: str) -> Any:
    return hotel_api.post(f"{BOOKINGS_URL}/{booking_id}/check-in")


def booking_of(hotel_api: APIClient, booking_id: str) -> dict[str, Any]:
    response = hotel_api.get(f"{BOOKINGS_URL}/{booking_id}")
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


def wallet(citizen: User) -> tuple[int, int]:
    account = LedgerAccount.objects.get(user=citizen)
    return account.balance, account.held


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=SHANGHAI)


# --- Bounds ----------------------------------------------------------------------------


def test_a_stay_beyond_the_perks_bounds_is_refused_with_the_limit_and_nothing_is_held(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a guest with 100,000 (a hold of 40,000 could be placed)
    top_up_paid(citizen, 100_000)
    consent = consent_of(citizen, hotel_api)
    # When the hotel books a stay starting 91 days ahead (the perk allows 90)
    too_far = book(hotel_api, consent, TODAY + timedelta(days=91))
    # Then it is refused by name, with the limit
    assert too_far.status_code == 422, too_far.json()
    assert {k: too_far.json()[k] for k in ("code", "status", "limit")} == {
        "code": "check_in_too_far",
        "status": 422,
        "limit": 90,
    }
    assert too_far.json()["detail"] == (
        "Check-in is at most 90 days after the day of booking (on or before 2026-05-31); "
        "this one is 91 days ahead."
    )
    assert [e["field"] for e in too_far.json()["errors"]] == ["check_in"]
    # When it books a stay of 31 nights (the perk allows 30)
    too_long = book(hotel_api, consent, TODAY + timedelta(days=1), nights=31)
    # Then that is refused too
    assert too_long.status_code == 422, too_long.json()
    assert {k: too_long.json()[k] for k in ("code", "limit", "detail")} == {
        "code": "stay_too_long",
        "limit": 30,
        "detail": "A stay is at most 30 nights; this one has 31.",
    }
    assert [e["field"] for e in too_long.json()["errors"]] == ["check_out"]
    # And nothing was booked or held
    assert not Booking.objects.exists()
    assert not Hold.objects.exists()
    assert wallet(citizen) == (100_000, 0)
    # While the bounds themselves are allowed: 90 days ahead, 30 nights
    assert book(hotel_api, consent, TODAY + timedelta(days=90), nights=30).status_code == 201


def test_a_perk_with_shorter_bounds_refuses_what_it_does_not_allow(
    citizen: User, hotel: Merchant, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a hotel that books at most 10 days ahead, for at most 2 nights
    perk = hotel.perks.get()
    perks_services.perk_update(
        perk=perk,
        max_amount=perk.max_amount,
        rules=perk.rules,
        is_active=True,
        bounds=perks_services.StayBounds(booking_max_days_ahead=10, booking_max_nights=2),
    )
    top_up_paid(citizen, 100_000)
    consent = consent_of(citizen, hotel_api)
    # When it books 11 days ahead, and 3 nights
    too_far = book(hotel_api, consent, TODAY + timedelta(days=11), nights=1)
    too_long = book(hotel_api, consent, TODAY + timedelta(days=1), nights=3)
    # Then each is refused with the perk's own limit
    assert (too_far.status_code, too_far.json()["code"], too_far.json()["limit"]) == (
        422,
        "check_in_too_far",
        10,
    )
    assert (too_long.status_code, too_long.json()["code"], too_long.json()["limit"]) == (
        422,
        "stay_too_long",
        2,
    )
    assert not Booking.objects.exists()


def test_the_longest_hold_a_booking_can_make_ends_seven_weeks_after_it_is_placed(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given the longest stay the perk allows, booked as far ahead as it allows (the hole:
    # check-in two years ahead and a year's stay held the balance for about three years)
    top_up_paid(citizen, 100_000)
    booking_id = booked(
        hotel_api, consent_of(citizen, hotel_api), TODAY + timedelta(days=90), nights=30
    )
    # When its hold falls due (two days before check-in) and is placed
    at(local(TODAY + timedelta(days=88), 0, 5))
    assert place_due_holds() == 1
    # Then it ends at the end of check-out day + the 14 days' claim window + 3 days: 49
    # days and a bit after it was placed, never years
    hold = Hold.objects.get()
    check_out = TODAY + timedelta(days=120)
    assert check_out == date(2026, 6, 30)
    assert hold.expires_at == end_of_day(check_out) + timedelta(days=14 + 3)
    assert hold.expires_at - hold.created_at < timedelta(days=50)
    assert booking_of(hotel_api, booking_id)["hold_placed"] is True


# --- Holds placed near check-in --------------------------------------------------------


def test_a_stay_booked_months_ahead_holds_nothing_until_two_days_before_check_in(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a guest with 50,000
    top_up_paid(citizen, 50_000)
    arrival = date(2026, 5, 1)
    # When the hotel books a stay of three nights from 1 May, 60 days ahead
    response = book(hotel_api, consent_of(citizen, hotel_api), arrival)
    # Then it is confirmed with 40,000 to hold from 29 April, and nothing is held yet
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {
        k: body[k] for k in ("status", "hold_amount", "hold_placed", "hold_due_at", "cancel_reason")
    } == {
        "status": "confirmed",
        "hold_amount": DEPOSIT,
        "hold_placed": False,
        "hold_due_at": "2026-04-29T00:00:00+08:00",
        "cancel_reason": "",
    }
    assert not Hold.objects.exists()
    assert wallet(citizen) == (50_000, 0)
    # When the task runs a minute before 29 April begins in Shanghai
    at(local(date(2026, 4, 28), 23, 59))
    # Then it places nothing
    assert place_due_holds() == 0
    assert not Hold.objects.exists()
    # When it runs once 29 April has begun
    at(local(date(2026, 4, 29), 0, 1))
    assert place_due_holds() == 1
    # Then the deposit is held until the end of check-out day + 14 + 3 days
    hold = Hold.objects.get()
    assert (hold.amount, hold.status, hold.reference) == (
        DEPOSIT,
        HoldStatus.ACTIVE,
        f"booking:{body['id']}",
    )
    assert hold.expires_at == end_of_day(date(2026, 5, 4)) + timedelta(days=17)
    assert hold.expires_at.astimezone(SHANGHAI).isoformat() == "2026-05-21T23:59:59.999999+08:00"
    assert wallet(citizen) == (50_000, DEPOSIT)
    shown = booking_of(hotel_api, body["id"])
    assert (shown["status"], shown["hold_placed"], shown["hold_due_at"]) == (
        "confirmed",
        True,
        None,
    )
    # And the guest sees the same
    [mine] = client_for(citizen).get("/api/v1/me/bookings").json()["results"]
    assert (mine["hold_placed"], mine["hold_due_at"], mine["checked_in_at"]) == (True, None, None)
    # When the task runs again
    assert place_due_holds() == 0
    # Then nothing more is held
    assert Hold.objects.count() == 1
    assert wallet(citizen) == (50_000, DEPOSIT)
    assert_ledger_consistent()


@pytest.mark.parametrize(("days_ahead", "held_at_once"), [(0, True), (2, True), (3, False)])
def test_the_deposit_is_held_at_booking_when_check_in_is_at_most_two_days_away(
    citizen: User,
    hotel_api: APIClient,
    at: Callable[[datetime], None],
    days_ahead: int,
    held_at_once: bool,
) -> None:
    # Given a guest with 50,000, late in the evening in Shanghai (already the next day
    # in UTC minus eight hours: the local date counts)
    at(local(TODAY, 23, 30))
    top_up_paid(citizen, 50_000)
    # When the hotel books a stay ``days_ahead`` days from today
    response = book(hotel_api, consent_of(citizen, hotel_api), TODAY + timedelta(days=days_ahead))
    # Then the deposit is held at once only when check-in is at most two days away
    assert response.status_code == 201, response.json()
    assert response.json()["hold_placed"] is held_at_once
    assert Hold.objects.filter(status=HoldStatus.ACTIVE).count() == int(held_at_once)
    assert wallet(citizen) == (50_000, DEPOSIT if held_at_once else 0)
    assert response.json()["hold_due_at"] == (
        None if held_at_once else f"{TODAY + timedelta(days=1)}T00:00:00+08:00"
    )


def test_a_hold_the_wallet_cannot_cover_fails_the_booking_and_says_so(
    citizen: User,
    hotel: Merchant,
    hotel_api: APIClient,
    at: Callable[[datetime], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a guest with 10,000 whose stay of 1 May needs 40,000 held
    top_up_paid(citizen, 10_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), date(2026, 5, 1))
    # When the hold falls due
    moment = local(date(2026, 4, 29), 0, 15)
    at(moment)
    caplog.set_level(logging.INFO, logger="merchants.perks.services")
    assert place_due_holds() == 0
    # Then the booking failed its hold, at that moment, and nothing was held
    stored = Booking.objects.get(pk=booking_id)
    assert (stored.status, stored.hold_failed_at, stored.hold_id) == (
        BookingStatus.HOLD_FAILED,
        moment,
        None,
    )
    assert not Hold.objects.exists()
    assert wallet(citizen) == (10_000, 0)
    # And a warning names the booking and the merchant
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert (warning.getMessage(), warning.booking_id, warning.merchant_id) == (  # type: ignore[attr-defined]
        "booking hold failed",
        booking_id,
        str(hotel.pk),
    )
    # And the merchant sees it
    shown = booking_of(hotel_api, booking_id)
    assert (shown["status"], shown["hold_placed"], shown["hold_due_at"]) == (
        "hold_failed",
        False,
        None,
    )
    # When the guest tops up and the task runs again
    top_up_paid(citizen, 50_000)
    caplog.clear()
    assert place_due_holds() == 0
    # Then the failed booking stays failed (the merchant books again), and no more warnings
    assert Booking.objects.get(pk=booking_id).status == BookingStatus.HOLD_FAILED
    assert not Hold.objects.exists()
    assert [r for r in caplog.records if r.levelno == logging.WARNING] == []
    # And checking the guest in is refused as for any booking not confirmed
    refused = check_in(hotel_api, booking_id)
    assert (refused.status_code, refused.json()["code"]) == (409, "booking_not_confirmed")


# --- Check-in --------------------------------------------------------------------------


def test_checking_the_guest_in_early_places_the_hold_at_once(
    citizen: User,
    hotel_api: APIClient,
    other_hotel_api: APIClient,
    at: Callable[[datetime], None],
) -> None:
    # Given a stay of 1 May booked in March, its deposit not held yet, for a guest who
    # has 10,000
    top_up_paid(citizen, 10_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), date(2026, 5, 1))
    # When the hotel checks the guest in three days early
    at(local(date(2026, 4, 28), 12, 0))
    too_early = check_in(hotel_api, booking_id)
    # Then it is refused: from two days before check-in on
    assert (too_early.status_code, too_early.json()["code"]) == (409, "too_early_to_check_in")
    assert too_early.json()["detail"] == "The guest can be checked in from 2026-04-29 on."
    # When it checks them in two days early, before the task ran, but the wallet cannot
    # cover the deposit
    at(local(date(2026, 4, 29), 8, 0))
    broke = check_in(hotel_api, booking_id)
    # Then it is refused and nothing changed
    assert (broke.status_code, broke.json()["code"]) == (422, "insufficient_funds")
    stored = Booking.objects.get(pk=booking_id)
    assert (stored.status, stored.checked_in_at, stored.hold_id) == (
        BookingStatus.CONFIRMED,
        None,
        None,
    )
    assert not Hold.objects.exists()
    assert wallet(citizen) == (10_000, 0)
    # When the guest tops up and the hotel checks them in (another hotel cannot)
    top_up_paid(citizen, 40_000)
    assert check_in(other_hotel_api, booking_id).status_code == 404
    moment = local(date(2026, 4, 29), 8, 30)
    at(moment)
    response = check_in(hotel_api, booking_id)
    # Then the guest is checked in and the deposit held, until the claim window ends
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["hold_placed"], body["hold_due_at"]) == ("confirmed", True, None)
    assert body["checked_in_at"] == "2026-04-29T08:30:00+08:00"
    hold = Hold.objects.get()
    assert (hold.amount, hold.status) == (DEPOSIT, HoldStatus.ACTIVE)
    assert hold.expires_at == end_of_day(date(2026, 5, 4)) + timedelta(days=17)
    assert wallet(citizen) == (50_000, DEPOSIT)
    # When the hotel checks them in again, and the task runs
    at(local(date(2026, 4, 29), 9, 0))
    again = check_in(hotel_api, booking_id)
    assert place_due_holds() == 0
    # Then nothing changes: the first check-in stands, one hold
    assert again.status_code == 200
    assert again.json()["checked_in_at"] == "2026-04-29T08:30:00+08:00"
    assert Hold.objects.count() == 1
    assert_ledger_consistent()


def test_a_guest_is_checked_in_at_the_latest_on_check_out_day(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay of three nights from tomorrow, its deposit held at booking
    top_up_paid(citizen, 50_000)
    booking_id = booked(hotel_api, consent_of(citizen, hotel_api), TODAY + timedelta(days=1))
    # When the hotel checks the guest in the day after check-out
    at(local(TODAY + timedelta(days=5), 9, 0))
    response = check_in(hotel_api, booking_id)
    # Then it is refused, and nothing changed
    assert (response.status_code, response.json()["code"]) == (409, "too_late_to_check_in")
    assert Booking.objects.get(pk=booking_id).checked_in_at is None
    # While on check-out day it is accepted
    at(local(TODAY + timedelta(days=4), 9, 0))
    assert check_in(hotel_api, booking_id).status_code == 200


# --- Revoking the consent --------------------------------------------------------------


def test_revoking_the_consent_cancels_the_stays_not_started_and_releases_their_holds(
    citizen: User,
    hotel_api: APIClient,
    other_hotel_api: APIClient,
    at: Callable[[datetime], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a guest with 200,000 and, under one consent to the hotel, four stays:
    top_up_paid(citizen, 200_000)
    consent = consent_of(citizen, hotel_api)
    tomorrow = TODAY + timedelta(days=1)
    held = booked(hotel_api, consent, tomorrow)  # held at booking
    later = booked(hotel_api, consent, TODAY + timedelta(days=30))  # nothing held yet
    started = booked(hotel_api, consent, tomorrow)  # the guest is checked in already
    assert check_in(hotel_api, started).status_code == 200
    today = booked(hotel_api, consent, TODAY)  # check-in is today: it has begun
    # ... and a stay at another hotel under that hotel's consent
    elsewhere = booked(other_hotel_api, consent_of(citizen, other_hotel_api), tomorrow)
    assert wallet(citizen) == (200_000, 4 * DEPOSIT)
    # When the guest revokes the consent to the hotel
    moment = local(TODAY, 18, 0)
    at(moment)
    guest = client_for(citizen)
    caplog.set_level(logging.INFO, logger="merchants.perks.services")
    response = guest.post(f"/api/v1/me/consents/{consent}/revoke")
    # Then the consent is revoked
    assert response.status_code == 200, response.json()
    assert response.json()["revoked_at"] == "2026-03-02T18:00:00+08:00"
    # And the two stays that had not started are cancelled, their holds released
    for booking_id in (held, later):
        shown = booking_of(hotel_api, booking_id)
        assert (shown["status"], shown["cancel_reason"], shown["hold_due_at"]) == (
            "cancelled",
            "consent_revoked",
            None,
        )
        assert Booking.objects.get(pk=booking_id).cancelled_at == moment
    assert Hold.objects.get(booking__pk=held).status == HoldStatus.RELEASED
    assert Booking.objects.get(pk=later).hold_id is None
    # And the stays that began stand, holds and all, as does the other hotel's
    for booking_id in (started, today, elsewhere):
        stored = Booking.objects.get(pk=booking_id)
        assert (stored.status, stored.cancel_reason) == (BookingStatus.CONFIRMED, "")
        assert stored.hold is not None
        assert stored.hold.status == HoldStatus.ACTIVE
    assert wallet(citizen) == (200_000, 3 * DEPOSIT)
    assert sorted(
        r.booking_id  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "booking cancelled"
    ) == sorted([held, later])
    # When the cancelled stay's hold would have fallen due, and the guest revokes again
    at(local(TODAY + timedelta(days=28), 1, 0))
    assert place_due_holds() == 0
    assert guest.post(f"/api/v1/me/consents/{consent}/revoke").status_code == 200
    # Then nothing more is held or changed
    assert wallet(citizen) == (200_000, 3 * DEPOSIT)
    assert Consent.objects.get(pk=consent).revoked_at == moment
    assert Booking.objects.filter(status=BookingStatus.CANCELLED).count() == 2
    assert_ledger_consistent()


def test_revoking_the_consent_cancels_a_stay_whose_hold_failed(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay of 1 May whose hold failed (the guest has 10,000)
    top_up_paid(citizen, 10_000)
    consent = consent_of(citizen, hotel_api)
    booking_id = booked(hotel_api, consent, date(2026, 5, 1))
    at(local(date(2026, 4, 29), 0, 15))
    assert place_due_holds() == 0
    assert Booking.objects.get(pk=booking_id).status == BookingStatus.HOLD_FAILED
    # When the guest revokes the consent the day after
    at(local(date(2026, 4, 30), 9, 0))
    assert client_for(citizen).post(f"/api/v1/me/consents/{consent}/revoke").status_code == 200
    # Then the stay is cancelled for that reason
    stored = Booking.objects.get(pk=booking_id)
    assert (stored.status, stored.cancel_reason, stored.cancelled_at, stored.hold_failed_at) == (
        BookingStatus.CANCELLED,
        "consent_revoked",
        local(date(2026, 4, 30), 9, 0),
        None,
    )
    assert wallet(citizen) == (10_000, 0)


def test_a_booking_under_a_revoked_consent_is_refused(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a decision under a consent the guest then revoked
    top_up_paid(citizen, 50_000)
    consent = consent_of(citizen, hotel_api)
    decision = hotel_api.post(
        ELIGIBILITY_URL,
        {"consent_id": consent, "perk": "deposit_waiver", "amount": DEPOSIT},
        format="json",
    ).json()
    assert client_for(citizen).post(f"/api/v1/me/consents/{consent}/revoke").status_code == 200
    # When the hotel books from the decision
    response = hotel_api.post(
        BOOKINGS_URL,
        {
            "decision_id": decision["decision_id"],
            "reference": "R-1",
            "check_in": str(TODAY + timedelta(days=1)),
            "check_out": str(TODAY + timedelta(days=2)),
            "deposit_amount": DEPOSIT,
        },
        format="json",
    )
    # Then it is refused, and nothing is booked or held
    assert (response.status_code, response.json()["code"]) == (403, "consent_revoked")
    assert not Booking.objects.exists()
    assert wallet(citizen) == (50_000, 0)


def test_a_stay_whose_hold_would_have_ended_is_passed_by_and_crowds_out_none(
    citizen: User, hotel_api: APIClient, at: Callable[[datetime], None]
) -> None:
    # Given a stay of 10 March whose hold was never placed (the task did not run for
    # months), and a stay of 1 August booked later
    top_up_paid(citizen, 100_000)
    forgotten = booked(hotel_api, consent_of(citizen, hotel_api), date(2026, 3, 10))
    at(local(date(2026, 5, 25), 9, 0))
    coming = booked(hotel_api, consent_of(citizen, hotel_api), date(2026, 8, 1))
    # When the hold of the second falls due and the task runs, one booking at a time
    at(local(date(2026, 7, 30), 0, 30))
    assert perks_services.bookings_place_due_holds(limit=1) == 1
    # Then the second is held; the first, whose stay and claim window are long over, is
    # left as it was
    assert Booking.objects.get(pk=coming).hold is not None
    stored = Booking.objects.get(pk=forgotten)
    assert (stored.status, stored.hold_id) == (BookingStatus.CONFIRMED, None)
    assert wallet(citizen) == (100_000, DEPOSIT)

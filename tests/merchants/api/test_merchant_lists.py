"""The merchant's lists filter as a booking system expects: by reference, status and
dates (both ends included), combined, and paged; a filter that is not one, or a value
that is not valid, answers 400 naming each parameter, never the whole list. The
merchant's consents: listed and read one by one, with their status and lifetime,
nothing about the citizen's score; another merchant's are not found."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from merchants import services as merchants_services
from merchants.bills import services as bills_services
from merchants.models import Consent, Merchant
from merchants.perks import services as perks_services
from merchants.perks.models import Booking
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import CreditEvent, Dispute
from scoring.subjects import bill_overdue_source, bill_subject
from tests.factories import UserFactory
from tests.merchants.conftest import BOOKINGS_URL, billing_consent, code_for
from tests.money import top_up_paid
from wallet.models import User

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
CONSENTS_URL = "/api/v1/merchant/consents"
BILLS_URL = "/api/v1/merchant/bills"
DISPUTES_URL = "/api/v1/merchant/disputes"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.json()
    rows: list[dict[str, Any]] = response.json()["results"]
    return rows


def refused(response: Any) -> list[tuple[str, str]]:
    """The (field, code) pairs of a 400 answer."""
    assert response.status_code == 400, response.json()
    body = response.json()
    assert (body["code"], body["title"]) == ("invalid", "Invalid request")
    return [(error["field"], error["code"]) for error in body["errors"]]


def stay(merchant: Merchant, citizen: User, reference: str, check_in: date) -> Booking:
    """A two-night stay of ``citizen`` at ``merchant`` (nothing to hold yet)."""
    consent = Consent.objects.filter(merchant=merchant, citizen=citizen).first()
    if consent is None:
        consent = merchants_services.consent_redeem(merchant=merchant, code=code_for(citizen))
    decision = perks_services.eligibility_decide(
        merchant=merchant, perk_kind="deposit_waiver", amount=40_000, consent_id=consent.pk
    )
    return perks_services.booking_create(
        merchant=merchant,
        decision_id=decision.pk,
        reference=reference,
        check_in=check_in,
        check_out=check_in + timedelta(days=2),
        deposit_amount=40_000,
    )


# --- Bookings --------------------------------------------------------------------------


@pytest.fixture
def stays(
    citizen: User, hotel: Merchant, other_hotel: Merchant, clock: time_machine.Traveller
) -> dict[str, str]:
    """The hotel's stays R-1 (in 5 days), R-2 (in 10, cancelled), R-3 (in 20); and the
    other hotel's R-2 (in 10)."""
    ids = {
        "R-1": stay(hotel, citizen, "R-1", TODAY + timedelta(days=5)),
        "R-2": stay(hotel, citizen, "R-2", TODAY + timedelta(days=10)),
        "R-3": stay(hotel, citizen, "R-3", TODAY + timedelta(days=20)),
    }
    stay(other_hotel, citizen, "R-2", TODAY + timedelta(days=10))
    perks_services.booking_cancel(merchant=hotel, booking_id=ids["R-2"].pk)
    return {reference: str(booking.pk) for reference, booking in ids.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["R-1", "R-2", "R-3"]),
        ("reference=R-2", ["R-2"]),
        ("reference=r-2", []),
        ("status=cancelled", ["R-2"]),
        ("status=confirmed", ["R-1", "R-3"]),
        ("status=completed", []),
        ("check_in_from=2026-03-12", ["R-2", "R-3"]),
        ("check_in_until=2026-03-12", ["R-1", "R-2"]),
        ("check_in_from=2026-03-12&check_in_until=2026-03-12", ["R-2"]),
        ("check_in_from=2026-03-08&check_in_until=2026-03-11", []),
        ("status=confirmed&check_in_from=2026-03-08", ["R-3"]),
        ("status=confirmed&check_in_until=2026-03-07&reference=R-1", ["R-1"]),
    ],
)
def test_the_bookings_list_filters_by_reference_status_and_check_in_dates(
    hotel_api: APIClient, stays: dict[str, str], query: str, expected: list[str]
) -> None:
    rows = results(hotel_api.get(f"{BOOKINGS_URL}?{query}"))
    assert sorted(row["reference"] for row in rows) == expected
    assert {row["id"] for row in rows} == {stays[reference] for reference in expected}


def test_filtered_bookings_are_paged_and_counted(
    hotel_api: APIClient, stays: dict[str, str]
) -> None:
    first = hotel_api.get(f"{BOOKINGS_URL}?status=confirmed&page_size=1")
    second = hotel_api.get(f"{BOOKINGS_URL}?status=confirmed&page_size=1&page=2")
    assert (first.json()["count"], second.json()["count"]) == (2, 2)
    assert sorted(row["reference"] for row in results(first) + results(second)) == ["R-1", "R-3"]


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("status=open", [("status", "invalid_choice")]),
        ("check_in_from=soon", [("check_in_from", "invalid")]),
        ("check_in_until=2026-02-30", [("check_in_until", "invalid")]),
        (
            "check_in_from=2026-03-12&check_in_until=2026-03-11",
            [("check_in_until", "invalid_range")],
        ),
        ("reference=" + "R" * 101, [("reference", "max_length")]),
        ("check_in_after=2026-03-12", [("check_in_after", "unknown_filter")]),
        ("status=nope&ref=R-1", [("status", "invalid_choice"), ("ref", "unknown_filter")]),
    ],
)
def test_a_bad_filter_on_bookings_answers_400_naming_it(
    hotel_api: APIClient, stays: dict[str, str], query: str, errors: list[tuple[str, str]]
) -> None:
    assert refused(hotel_api.get(f"{BOOKINGS_URL}?{query}")) == errors


def test_an_unknown_filter_lists_the_known_ones(hotel_api: APIClient, hotel: Merchant) -> None:
    [error] = hotel_api.get(f"{BOOKINGS_URL}?checkin=2026-03-12").json()["errors"]
    assert error == {
        "field": "checkin",
        "message": "Not a filter of this list; its filters are: check_in_from, check_in_until, "
        "reference, status.",
        "code": "unknown_filter",
    }


# --- Consents --------------------------------------------------------------------------


@pytest.fixture
def consents(
    citizen: User, other_citizen: User, hotel: Merchant, clock: time_machine.Traveller
) -> dict[str, str]:
    """The hotel's consents: one that expired (granted 31 days ago), one revoked
    two days ago, one active since today."""
    clock.move_to(NOW - timedelta(days=31))
    expired = merchants_services.consent_redeem(merchant=hotel, code=code_for(citizen))
    clock.move_to(NOW - timedelta(days=31) + timedelta(hours=1))
    third: User = UserFactory.create()
    revoked = merchants_services.consent_redeem(merchant=hotel, code=code_for(third))
    clock.move_to(NOW - timedelta(days=2))
    perks_services.consent_revoke(citizen=third, consent=revoked)
    clock.move_to(NOW)
    active = merchants_services.consent_redeem(merchant=hotel, code=code_for(other_citizen))
    return {"expired": str(expired.pk), "revoked": str(revoked.pk), "active": str(active.pk)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["active", "revoked", "expired"]),
        ("status=active", ["active"]),
        ("status=revoked", ["revoked"]),
        ("status=expired", ["expired"]),
        ("scope=deposit_waiver", ["active", "revoked", "expired"]),
        ("scope=billing", []),
        ("scope=deposit_waiver&status=expired", ["expired"]),
    ],
)
def test_the_consents_list_filters_by_scope_and_status_newest_first(
    hotel_api: APIClient, consents: dict[str, str], query: str, expected: list[str]
) -> None:
    rows = results(hotel_api.get(f"{CONSENTS_URL}?{query}"))
    assert [row["id"] for row in rows] == [consents[name] for name in expected]
    assert [row["status"] for row in rows] == expected


def test_a_consent_reads_with_its_lifetime_and_nothing_about_the_citizen(
    hotel_api: APIClient, consents: dict[str, str]
) -> None:
    consent = Consent.objects.get(pk=consents["revoked"])
    response = hotel_api.get(f"{CONSENTS_URL}/{consent.pk}")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "id": str(consent.pk),
        "scope": "deposit_waiver",
        "status": "revoked",
        "granted_at": "2026-01-30T10:00:00Z",
        "renewed_at": None,
        "expires_at": "2026-03-01T10:00:00Z",
        "revoked_at": "2026-02-28T09:00:00Z",
        "max_bill_amount": None,
        "max_monthly_amount": None,
        "currency": "CNY",
        "text": consent.text,
        "text_version": consent.text_version,
        "language": consent.language,
    }


def test_a_billing_consent_reads_with_its_limits_and_no_expiry(
    citizen: User, biller: Merchant, biller_api: APIClient, clock: time_machine.Traveller
) -> None:
    consent = billing_consent(citizen, biller)
    body = biller_api.get(f"{CONSENTS_URL}/{consent.pk}").json()
    assert {
        k: body[k]
        for k in ("scope", "status", "expires_at", "max_bill_amount", "max_monthly_amount")
    } == {
        "scope": "billing",
        "status": "active",
        "expires_at": None,
        "max_bill_amount": 50_000,
        "max_monthly_amount": 100_000,
    }
    assert [row["id"] for row in results(biller_api.get(f"{CONSENTS_URL}?scope=billing"))] == [
        str(consent.pk)
    ]


def test_another_merchants_consent_is_not_found_or_listed(
    other_hotel_api: APIClient, consents: dict[str, str]
) -> None:
    assert other_hotel_api.get(f"{CONSENTS_URL}/{consents['active']}").status_code == 404
    assert other_hotel_api.get(f"{CONSENTS_URL}/{uuid.uuid4()}").status_code == 404
    assert results(other_hotel_api.get(CONSENTS_URL)) == []


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("status=live", [("status", "invalid_choice")]),
        ("scope=all", [("scope", "invalid_choice")]),
        ("merchant=me", [("merchant", "unknown_filter")]),
    ],
)
def test_a_bad_filter_on_consents_answers_400(
    hotel_api: APIClient, consents: dict[str, str], query: str, errors: list[tuple[str, str]]
) -> None:
    assert refused(hotel_api.get(f"{CONSENTS_URL}?{query}")) == errors


def test_redeeming_a_code_still_answers_on_the_consents_path(
    citizen: User, hotel_api: APIClient, clock: time_machine.Traveller
) -> None:
    response = hotel_api.post(CONSENTS_URL, {"code": code_for(citizen)}, format="json")
    assert response.status_code == 201, response.json()
    assert results(hotel_api.get(CONSENTS_URL))[0]["id"] == response.json()["id"]


# --- Bills -----------------------------------------------------------------------------


@pytest.fixture
def bills(
    citizen: User, other_citizen: User, biller: Merchant, clock: time_machine.Traveller
) -> dict[str, str]:
    """The biller's bills: ``late`` (due in 7 days, never paid), ``paid`` (due in 14,
    paid), ``later`` (due in 60, of another citizen); the clock then 40 days on, when
    ``late`` is overdue."""
    consent = billing_consent(citizen, biller)
    other = billing_consent(other_citizen, biller)

    def issue(consent: Consent, days: int) -> str:
        bill = bills_services.bill_issue(
            merchant=biller,
            consent_id=consent.pk,
            amount=10_000,
            due_date=TODAY + timedelta(days=days),
            description="Water",
        )
        return str(bill.pk)

    ids = {"late": issue(consent, 7), "paid": issue(consent, 14), "later": issue(other, 60)}
    top_up_paid(citizen, 10_000)
    bills_services.bill_pay(citizen=citizen, bill_id=ids["paid"])
    clock.move_to(NOW + timedelta(days=40))
    return {**ids, "consent": str(consent.pk)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["late", "later", "paid"]),
        ("status=open", ["late", "later"]),
        ("status=paid", ["paid"]),
        ("overdue=true", ["late"]),
        ("overdue=false", ["later", "paid"]),
        ("due_from=2026-03-16", ["later", "paid"]),
        ("due_until=2026-03-16", ["late", "paid"]),
        ("due_from=2026-03-09&due_until=2026-03-09", ["late"]),
        ("consent_id={consent}", ["late", "paid"]),
        ("consent_id={consent}&status=open", ["late"]),
    ],
)
def test_the_bills_list_filters_by_status_overdue_due_date_and_consent(
    biller_api: APIClient, bills: dict[str, str], query: str, expected: list[str]
) -> None:
    rows = results(biller_api.get(f"{BILLS_URL}?{query.format(**bills)}"))
    by_id = {bill_id: name for name, bill_id in bills.items()}
    assert sorted(by_id[row["id"]] for row in rows) == expected


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("status=overdue", [("status", "invalid_choice")]),
        ("overdue=maybe", [("overdue", "invalid_choice")]),
        ("consent_id=abc", [("consent_id", "invalid")]),
        ("due_from=2026-04-01&due_until=2026-03-01", [("due_until", "invalid_range")]),
        ("due=2026-04-01", [("due", "unknown_filter")]),
    ],
)
def test_a_bad_filter_on_bills_answers_400(
    biller_api: APIClient, bills: dict[str, str], query: str, errors: list[tuple[str, str]]
) -> None:
    assert refused(biller_api.get(f"{BILLS_URL}?{query}")) == errors


# --- Disputes --------------------------------------------------------------------------


@pytest.fixture
def disputes(
    citizen: User, other_citizen: User, hotel: Merchant, clock: time_machine.Traveller
) -> dict[str, str]:
    """Disputes of records the hotel furnished: ``bill`` (a bill overdue, opened 10 days
    ago, verified), ``no_show`` (opened today, open)."""

    def record(user: User, kind: str, days_ago: int) -> CreditEvent:
        subject_id = uuid.uuid4()
        return scoring_services.record_event(
            account=user,
            kind=kind,
            occurred_at=NOW - timedelta(days=days_ago),
            source=bill_overdue_source(subject_id)
            if kind == EventKinds.BILL_OVERDUE
            else f"test:{subject_id}",
            subject=bill_subject(subject_id),
            amount=12_000,
            currency="CNY",
            description="Harbour Hotel",
            furnisher_id=hotel.pk,
        )

    bill_event = record(citizen, EventKinds.BILL_OVERDUE, 40)
    no_show_event = record(other_citizen, EventKinds.NO_SHOW, 20)
    clock.move_to(NOW - timedelta(days=10))
    bill = scoring_services.dispute_open(citizen=citizen, event=bill_event, reason="Paid.")
    scoring_services.dispute_verify(dispute=bill, furnisher_id=hotel.pk, note="Unpaid.")
    clock.move_to(NOW)
    no_show = scoring_services.dispute_open(
        citizen=other_citizen, event=no_show_event, reason="I came."
    )
    return {"bill": str(bill.pk), "no_show": str(no_show.pk)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["no_show", "bill"]),
        ("status=open", ["no_show"]),
        ("status=verified", ["bill"]),
        ("kind=no_show", ["no_show"]),
        ("kind=bill_overdue", ["bill"]),
        ("opened_from=2026-02-20", ["no_show", "bill"]),
        ("opened_from=2026-02-21", ["no_show"]),
        ("opened_until=2026-02-20", ["bill"]),
        ("opened_until=2026-02-19", []),
        ("respond_by_until=2026-03-22", ["bill"]),
        ("respond_by_until=2026-04-01", ["no_show", "bill"]),
        ("kind=no_show&status=verified", []),
    ],
)
def test_the_disputes_list_filters_by_status_kind_and_dates(
    hotel_api: APIClient, disputes: dict[str, str], query: str, expected: list[str]
) -> None:
    rows = results(hotel_api.get(f"{DISPUTES_URL}?{query}"))
    assert [row["id"] for row in rows] == [disputes[name] for name in expected]
    assert Dispute.objects.count() == 2


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("kind=late", [("kind", "invalid_choice")]),
        ("opened_from=yesterday", [("opened_from", "invalid")]),
        ("opened_from=2026-03-02&opened_until=2026-03-01", [("opened_until", "invalid_range")]),
        ("since=2026-03-01", [("since", "unknown_filter")]),
    ],
)
def test_a_bad_filter_on_disputes_answers_400(
    hotel_api: APIClient, disputes: dict[str, str], query: str, errors: list[tuple[str, str]]
) -> None:
    assert refused(hotel_api.get(f"{DISPUTES_URL}?{query}")) == errors


def test_dates_are_local_days(
    hotel_api: APIClient, disputes: dict[str, str], settings: Any
) -> None:
    # In Shanghai (UTC+8) the no-show's dispute, opened at 09:00 UTC, was opened at 17:00
    # on 2 March; the bill's, 10 days before at 17:00 on 20 February.
    settings.TIME_ZONE = "Asia/Shanghai"
    assert timezone.localtime(NOW).hour == 17
    rows = results(hotel_api.get(f"{DISPUTES_URL}?opened_from=2026-03-02&opened_until=2026-03-02"))
    assert [row["id"] for row in rows] == [disputes["no_show"]]

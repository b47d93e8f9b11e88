"""A month's report: its figures against a plain Python computation over the same
seeded rows (local months, in a time zone ahead of UTC so that the month's edges
matter), and a fixed number of queries whatever the month holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from merchants.bills import services as bills_services
from merchants.bills.models import Bill
from merchants.console.selectors.office import MonthReport, month_report
from merchants.models import Merchant
from merchants.perks import claims as claims_services
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, BookingOutcome, Claim, Decision
from scoring.models import Dispute
from tests.factories import UserFactory
from tests.merchants.conftest import billing_consent, code_for, make_reliable
from tests.merchants.console.conftest import MemberMaker
from tests.merchants.console.office_world import close, damage, disputed_record, stay
from tests.money import top_up_paid
from wallet.models import User

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
ZONE = "Asia/Shanghai"  # UTC+8: 2026-02-28 17:00 UTC is already March there


@pytest.fixture(autouse=True)
def _shanghai(settings: Any) -> Iterator[None]:
    settings.TIME_ZONE = ZONE
    with timezone.override(ZONE):
        yield


def at(moment: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(moment), tick=False)


def local_month(moment: datetime | None) -> tuple[int, int] | None:
    if moment is None:
        return None
    local = timezone.localtime(moment)
    return local.year, local.month


def _guests() -> tuple[User, User]:
    reliable, plain = UserFactory.create(), UserFactory.create()
    make_reliable(reliable)
    for guest in (reliable, plain):
        top_up_paid(guest, 200_000)
    return reliable, plain


@pytest.fixture
def stays_world(hotel: Merchant, other_hotel: Merchant) -> None:
    """A February, a March (from its first local hour) and an April of a hotel's stays,
    and another hotel's March."""
    with at("2026-02-20 10:00+00:00"):
        reliable, plain = _guests()
        stay(hotel, plain, "FEB-1")
    with at("2026-02-28 17:00+00:00"):  # 1 March, 01:00 local
        first = stay(hotel, reliable, "MAR-1")
    with at("2026-03-05 10:00+00:00"):
        no_show = stay(hotel, plain, "MAR-2")
        damaged = stay(hotel, reliable, "MAR-3")
        perks_services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=30_000, code=code_for(plain)
        )
        stay(other_hotel, reliable, "ELSEWHERE")
        disputed_record(hotel, plain)
        disputed_record(other_hotel, plain)
    with at("2026-03-06 10:00+00:00"):
        close(hotel, no_show, BookingOutcome.NO_SHOW)
        claim = damage(hotel, damaged, [(3_000, "Lamp"), (500, "Towel")])
        claims_services.claim_accept(citizen=reliable, claim_id=claim.pk)
    with at("2026-03-07 10:00+00:00"):
        damage(hotel, first, [(2_000, "Stain")])
    with at("2026-03-31 16:30+00:00"):  # 1 April, 00:30 local
        stay(hotel, plain, "APR-1")


def expected_stays(hotel: Merchant, month: tuple[int, int]) -> dict[str, Any]:
    """The figures, counted row by row in Python."""
    decisions = [
        d for d in Decision.objects.filter(merchant=hotel) if local_month(d.created_at) == month
    ]
    bookings = list(Booking.objects.filter(merchant=hotel))
    made = [b for b in bookings if local_month(b.created_at) == month and b.status != "cancelled"]
    claims = [c for c in Claim.objects.filter(merchant=hotel) if local_month(c.created_at) == month]
    per_day = Counter(timezone.localtime(d.created_at).date() for d in decisions)
    waiving_per_day = Counter(
        timezone.localtime(d.created_at).date() for d in decisions if d.waived_amount > 0
    )
    return {
        "decisions": len(decisions),
        "decisions_eligible": sum(1 for d in decisions if d.eligible),
        "waivers": sum(1 for b in made if b.waived_amount > 0),
        "waived_total": sum(b.waived_amount for b in made),
        "deposits_held": sum(1 for b in made if b.hold_amount > 0),
        "held_total": sum(b.hold_amount for b in made),
        "no_shows": sum(
            1 for b in bookings if local_month(b.completed_at) == month and b.outcome == "no_show"
        ),
        "claims_filed": len(claims),
        "claimed_total": sum(c.amount for c in claims),
        "recovered_total": sum(c.paid_amount - c.refunded_amount for c in claims),
        "disputes_opened": sum(
            1
            for d in Dispute.objects.filter(furnisher_id=hotel.pk)
            if local_month(d.opened_at) == month
        ),
        "per_day": per_day,
        "waiving_per_day": waiving_per_day,
    }


def _figures(report: MonthReport, names: list[str]) -> dict[str, Any]:
    return {name: getattr(report, name) for name in names}


@pytest.mark.usefixtures("stays_world")
@pytest.mark.parametrize("month", [date(2026, 2, 1), MARCH, date(2026, 4, 1), date(2026, 5, 1)])
def test_a_hotels_month_is_what_its_rows_say(hotel: Merchant, month: date) -> None:
    expected = expected_stays(hotel, (month.year, month.month))
    per_day, waiving_per_day = expected.pop("per_day"), expected.pop("waiving_per_day")
    report = month_report(merchant=hotel, month=month)
    assert _figures(report, list(expected)) == expected
    assert {day.day: day.first for day in report.days if day.first} == dict(per_day)
    assert {day.day: day.second for day in report.days if day.second} == dict(waiving_per_day)
    assert report.days[0].day == month
    assert len(report.days) == {2: 28, 3: 31, 4: 30, 5: 31}[month.month]


@pytest.mark.usefixtures("stays_world")
def test_march_in_figures(hotel: Merchant) -> None:
    # (the oracle above is not vacuous: March holds these)
    report = month_report(merchant=hotel, month=MARCH)
    assert (report.decisions, report.no_shows, report.claims_filed) == (4, 1, 2)
    assert (report.claimed_total, report.recovered_total, report.disputes_opened) == (
        5_500,
        3_500,
        1,
    )
    assert report.days[0].first == 1  # 1 March local, 28 February in UTC
    assert report.waivers >= 1


@pytest.fixture
def bills_world(biller: Merchant) -> None:
    """A biller's January to March: an overdue bill reported in March, bills issued from
    1 March local, one paid in March."""
    with at("2026-01-05 10:00+00:00"):
        payer = UserFactory.create()
        top_up_paid(payer, 200_000)
        consent = billing_consent(payer, biller)
    with at("2026-01-10 10:00+00:00"):
        bills_services.bill_issue(
            merchant=biller,
            consent_id=consent.pk,
            amount=4_000,
            due_date=date(2026, 1, 20),
            description="January",
        )
    with at("2026-02-28 17:00+00:00"):  # 1 March, 01:00 local
        march = bills_services.bill_issue(
            merchant=biller,
            consent_id=consent.pk,
            amount=5_000,
            due_date=date(2026, 3, 20),
            description="March",
        )
    with at("2026-03-02 10:00+00:00"):
        bills_services.bills_record_overdue()
        bills_services.bill_issue(
            merchant=biller,
            consent_id=consent.pk,
            amount=7_000,
            due_date=date(2026, 3, 20),
            description="March, extra",
        )
    with at("2026-03-10 10:00+00:00"):
        bills_services.bill_pay(citizen=payer, bill_id=march.pk)


@pytest.mark.usefixtures("bills_world")
@pytest.mark.parametrize("month", [date(2026, 1, 1), date(2026, 2, 1), MARCH])
def test_a_billers_month_is_what_its_rows_say(biller: Merchant, month: date) -> None:
    key = (month.year, month.month)
    bills = list(Bill.objects.filter(merchant=biller))
    issued = [b for b in bills if local_month(b.issued_at) == key]
    paid = [b for b in bills if local_month(b.paid_at) == key]
    report = month_report(merchant=biller, month=month)
    assert _figures(
        report, ["bills_issued", "billed_total", "bills_paid", "paid_total", "bills_overdue"]
    ) == {
        "bills_issued": len(issued),
        "billed_total": sum(b.amount for b in issued),
        "bills_paid": len(paid),
        "paid_total": sum(b.amount for b in paid),
        "bills_overdue": sum(1 for b in bills if local_month(b.overdue_recorded_at) == key),
    }
    assert {d.day: d.first for d in report.days if d.first} == dict(
        Counter(timezone.localtime(b.issued_at).date() for b in issued)
    )


@pytest.mark.usefixtures("bills_world")
def test_a_billers_march_in_figures(biller: Merchant) -> None:
    report = month_report(merchant=biller, month=MARCH)
    assert (report.bills_issued, report.billed_total, report.bills_paid, report.paid_total) == (
        2,
        12_000,
        1,
        5_000,
    )
    assert report.bills_overdue == 1
    assert report.days[0].first == 1


# --- A fixed number of queries ---------------------------------------------------------


@pytest.mark.usefixtures("stays_world")
@pytest.mark.parametrize("month", [MARCH, date(2026, 6, 1)])
def test_a_hotels_report_costs_four_queries_whatever_the_month_holds(
    hotel: Merchant, month: date, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(4):
        month_report(merchant=hotel, month=month)


@pytest.mark.usefixtures("bills_world")
@pytest.mark.parametrize("month", [MARCH, date(2026, 6, 1)])
def test_a_billers_report_costs_four_queries_whatever_the_month_holds(
    biller: Merchant, month: date, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(4):
        month_report(merchant=biller, month=month)


@pytest.mark.usefixtures("stays_world")
def test_the_report_page_costs_the_same_for_a_full_month_and_an_empty_one(
    hotel: Merchant, member_make: MemberMaker, console_client: Any
) -> None:
    client = console_client(member_make(hotel, "manager"))
    counts = []
    for month in ("2026-03", "2026-06"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/merchant/report/", {"month": month})
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    page = client.get("/merchant/report/", {"month": "2026-03"}).content.decode()
    assert '<p class="figure-value" data-testid="decisions">4</p>' in page
    assert '<p class="figure-value" data-testid="recovered">35.00 CNY</p>' in page

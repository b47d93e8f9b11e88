"""Bills are judged by the deployment's business day (``TIME_ZONE``), not by UTC.

A bill due on D is past due from the end of D and overdue (reported) from the end of
D+30 (``BILL_OVERDUE_AFTER_DAYS``), both local. In Shanghai (UTC+8) the first eight hours
of a day are still the day before in UTC: a UTC judgement would call a payment at 00:30
Shanghai time on D+31 on time, would not see the bill overdue until 08:00, and would
accept a bill issued at 00:30 as due 7 days later on a date that is only 6 days later
there. Time is pinned at each moment; the citizen signs in again at each (a token unused
for 30 days ends).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.bills.models import Bill
from merchants.bills.tasks import record_overdue_bills
from merchants.models import Merchant
from scoring.facts import EventKinds
from scoring.models import CreditEvent
from tests.conftest import client_for
from tests.merchants.conftest import billing_consent
from tests.money import top_up_paid
from wallet.models import User

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
AMOUNT = 12_345
BILLS_URL = "/api/v1/merchant/bills"


def shanghai(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _in_shanghai() -> Iterator[None]:
    with override_settings(TIME_ZONE="Asia/Shanghai", CELERY_TIMEZONE="Asia/Shanghai"):
        yield


@pytest.fixture
def due() -> date:
    """D: a due date three weeks after today in Shanghai, whatever day the tests run."""
    return timezone.now().astimezone(SHANGHAI).date() + timedelta(days=21)


@pytest.fixture
def pinned() -> Iterator[Any]:
    """``pinned(moment)`` stops the clock at ``moment`` until the next call or the end."""
    travellers: list[time_machine.travel] = []

    def to(moment: datetime) -> None:
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield to
    for traveller in travellers:
        traveller.stop()


def issue(biller_api: APIClient, citizen: User, biller: Merchant, due_date: date) -> Any:
    return biller_api.post(
        BILLS_URL,
        {
            "consent_id": str(billing_consent(citizen, biller).pk),
            "amount": AMOUNT,
            "due_date": str(due_date),
            "description": "Water, March",
        },
        format="json",
    )


@pytest.fixture
def bill(
    citizen: User, biller: Merchant, biller_api: APIClient, due: date, pinned: Any
) -> dict[str, Any]:
    """A bill of AMOUNT due on D, issued ten days before, with the money to pay it."""
    pinned(shanghai(due - timedelta(days=10), 10, 0))
    top_up_paid(citizen, AMOUNT)
    response = issue(biller_api, citizen, biller, due)
    assert response.status_code == 201, response.content
    return response.json()


def bill_events(citizen: User) -> list[tuple[str, datetime]]:
    return [
        (event.kind, event.occurred_at)
        for event in CreditEvent.objects.filter(account=citizen).order_by("occurred_at", "pk")
    ]


def test_paid_at_23_30_on_the_30th_day_after_the_due_date_in_shanghai_is_on_time(
    citizen: User, bill: dict[str, Any], due: date, pinned: Any
) -> None:
    # Given the last half hour of D+30 in Shanghai (15:30 UTC on D+30)
    last_day = due + timedelta(days=30)
    moment = shanghai(last_day, 23, 30)
    assert moment.astimezone(UTC) == datetime.combine(last_day, time(15, 30), tzinfo=UTC)
    pinned(moment)
    # When the citizen pays
    response = client_for(citizen).post(f"/api/v1/me/bills/{bill['id']}/pay")
    # Then it is paid on time
    assert response.status_code == 200, response.content
    assert response.json()["paid_on_time"] is True
    assert bill_events(citizen) == [(EventKinds.BILL_PAID_ON_TIME, moment)]


def test_paid_at_00_30_on_d_plus_31_in_shanghai_is_late_though_utc_is_still_d_plus_30(
    citizen: User,
    biller_api: APIClient,
    bill: dict[str, Any],
    due: date,
    pinned: Any,
) -> None:
    # Given the first half hour of D+31 in Shanghai: 16:30 UTC, still D+30 in UTC
    moment = shanghai(due + timedelta(days=31), 0, 30)
    assert moment.astimezone(UTC).date() == due + timedelta(days=30)
    pinned(moment)
    # When the citizen pays (before the overdue task ran)
    response = client_for(citizen).post(f"/api/v1/me/bills/{bill['id']}/pay")
    # Then it is one late payment, as the citizen and the biller both see it
    assert response.status_code == 200, response.content
    assert response.json()["paid_on_time"] is False
    assert biller_api.get(f"{BILLS_URL}/{bill['id']}").json()["paid_on_time"] is False
    assert bill_events(citizen) == [(EventKinds.BILL_PAID_LATE, moment)]


def test_the_overdue_task_at_00_15_in_shanghai_records_the_bill_overdue_from_the_local_midnight(
    citizen: User,
    biller_api: APIClient,
    bill: dict[str, Any],
    due: date,
    pinned: Any,
) -> None:
    # Given the bill still unpaid; at 23:59 on D+30 it is past due, not overdue yet
    pinned(shanghai(due + timedelta(days=30), 23, 59))
    assert record_overdue_bills.delay().get() == 0
    assert bill_events(citizen) == []
    [mine] = client_for(citizen).get("/api/v1/me/bills").json()["results"]
    assert (mine["past_due"], mine["is_overdue"]) == (True, False)
    # When the daily task runs at 00:15 on D+31 in Shanghai (16:15 UTC on D+30)
    pinned(shanghai(due + timedelta(days=31), 0, 15))
    assert record_overdue_bills.delay().get() == 1
    # Then the bill is overdue from the first moment of D+31 in Shanghai (16:00 UTC)
    midnight = shanghai(due + timedelta(days=31), 0, 0)
    assert midnight == datetime.combine(due + timedelta(days=30), time(16, 0), tzinfo=UTC)
    assert bill_events(citizen) == [(EventKinds.BILL_OVERDUE, midnight)]
    assert Bill.objects.get(pk=bill["id"]).overdue_recorded_at is not None
    [mine] = client_for(citizen).get("/api/v1/me/bills").json()["results"]
    assert (mine["past_due"], mine["is_overdue"]) == (True, True)
    assert biller_api.get(f"{BILLS_URL}/{bill['id']}").json()["is_overdue"] is True


def test_a_due_date_is_checked_against_the_local_day(
    citizen: User, biller: Merchant, biller_api: APIClient, due: date, pinned: Any
) -> None:
    # Given 00:30 on D in Shanghai: 16:30 UTC on D-1
    pinned(shanghai(due, 0, 30))
    # When the biller issues a bill due on D+6 (7 days after "today" in UTC)
    refused = issue(biller_api, citizen, biller, due + timedelta(days=6))
    # Then it is refused, and nothing is written; due on D+7 is accepted
    assert refused.status_code == 400, refused.content
    assert refused.json()["code"] == "due_date_too_soon"
    assert refused.json()["errors"] == [
        {
            "field": "due_date",
            "message": "A bill is due at least 7 days after it is issued: on "
            f"{(due + timedelta(days=7)).isoformat()} or later.",
            "code": "due_date_too_soon",
        }
    ]
    assert not Bill.objects.exists()
    accepted = issue(biller_api, citizen, biller, due + timedelta(days=7))
    assert accepted.status_code == 201, accepted.content


def test_a_due_date_beyond_a_year_is_refused_on_the_local_day(
    citizen: User, biller: Merchant, biller_api: APIClient, due: date, pinned: Any
) -> None:
    pinned(shanghai(due, 0, 30))
    refused = issue(biller_api, citizen, biller, due + timedelta(days=367))
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"] == [
        {
            "field": "due_date",
            "message": "The due date must be on "
            f"{(due + timedelta(days=366)).isoformat()} or before.",
            "code": "out_of_range",
        }
    ]
    assert not Bill.objects.exists()


def test_each_bill_says_the_instant_it_becomes_overdue_and_me_says_the_servers_date(
    citizen: User,
    biller_api: APIClient,
    bill: dict[str, Any],
    due: date,
    pinned: Any,
) -> None:
    # Given the bill due on D, and a phone anywhere: the server says when it is overdue
    midnight = shanghai(due + timedelta(days=31), 0, 0)  # 16:00 UTC on D+30
    assert datetime.fromisoformat(bill["overdue_at"]) == midnight
    # At 23:59 on D+30 in Shanghai: not overdue; the server's date is D+30
    pinned(shanghai(due + timedelta(days=30), 23, 59))
    citizen_api = client_for(citizen)
    [mine] = citizen_api.get("/api/v1/me/bills").json()["results"]
    assert (datetime.fromisoformat(mine["overdue_at"]), mine["is_overdue"]) == (midnight, False)
    me = citizen_api.get("/api/v1/me").json()
    assert (me["business_date"], me["time_zone"]) == (
        (due + timedelta(days=30)).isoformat(),
        "Asia/Shanghai",
    )
    # At the overdue instant itself (still D+30 in UTC): overdue, the server's date D+31
    pinned(midnight)
    assert timezone.now().astimezone(UTC).date() == due + timedelta(days=30)
    [mine] = citizen_api.get("/api/v1/me/bills").json()["results"]
    assert mine["is_overdue"] is True
    assert biller_api.get(f"{BILLS_URL}/{bill['id']}").json()["overdue_at"] == mine["overdue_at"]
    me = citizen_api.get("/api/v1/me").json()
    assert me["business_date"] == (due + timedelta(days=31)).isoformat()
    # And paid then, the payment is late: the same instant decides both
    response = citizen_api.post(f"/api/v1/me/bills/{bill['id']}/pay")
    assert response.status_code == 200, response.content
    assert (response.json()["paid_on_time"], response.json()["overdue_at"]) == (
        False,
        mine["overdue_at"],
    )
    assert bill_events(citizen) == [(EventKinds.BILL_PAID_LATE, midnight)]


def test_a_payment_one_microsecond_before_the_overdue_instant_is_on_time(
    citizen: User, bill: dict[str, Any], due: date, pinned: Any
) -> None:
    moment = datetime.fromisoformat(bill["overdue_at"]) - timedelta(microseconds=1)
    pinned(moment)
    response = client_for(citizen).post(f"/api/v1/me/bills/{bill['id']}/pay")
    assert response.status_code == 200, response.content
    assert response.json()["paid_on_time"] is True
    assert bill_events(citizen) == [(EventKinds.BILL_PAID_ON_TIME, moment)]

"""Bills have one implementation (``services._bills_write``): a bill issued now and the
same bill recorded in a history are the same row, and both refuse the same bad input
with the same error."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from common.domain import DomainError
from merchants.bills import services
from merchants.bills.models import Bill
from merchants.models import Consent, Merchant
from tests.merchants.conftest import MAX_BILL, MAX_MONTHLY, billing_consent
from wallet.models import User

pytestmark = pytest.mark.django_db

_COMPARED = (
    "merchant_id",
    "citizen_id",
    "consent_id",
    "amount",
    "currency",
    "description",
    "due_date",
    "status",
    "paid_at",
    "payment_id",
    "overdue_recorded_at",
)


def _record(biller: Merchant, consent: Consent, **changes: Any) -> services.BillRecord:
    today = timezone.localdate()
    fields: dict[str, Any] = {
        "merchant": biller,
        "consent": consent,
        "consent_id": consent.pk,
        "amount": 12_000,
        "description": "Water, May",
        "due_date": today + timedelta(days=14),
        "issued_at": timezone.now(),
    }
    return services.BillRecord(**{**fields, **changes})


def test_a_bill_issued_now_and_the_same_bill_in_a_history_are_the_same_row(
    citizen: User, biller: Merchant
) -> None:
    consent = billing_consent(citizen, biller)
    record = _record(biller, consent)
    issued = services.bill_issue(
        merchant=biller,
        consent_id=consent.pk,
        amount=record.amount,
        due_date=record.due_date,
        description=record.description,
    )
    assert services.bills_record(bills=[record]) == 1
    rows = Bill.objects.in_bulk([issued.pk, record.id])
    assert [getattr(rows[issued.pk], n) for n in _COMPARED] == [
        getattr(rows[record.id], n) for n in _COMPARED
    ]
    assert [getattr(issued, n) for n in _COMPARED] == [
        getattr(rows[issued.pk], n) for n in _COMPARED
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": 0}, "invalid_amount"),
        ({"due_date": -1}, "due_date_too_soon"),
        ({"due_date": 6}, "due_date_too_soon"),
        ({"due_date": 367}, "invalid"),
        ({"revoked": True}, "consent_revoked"),
        ({"amount": MAX_BILL + 1}, "bill_over_limit"),
    ],
)
def test_a_bad_bill_is_refused_alike_now_and_in_a_history(
    citizen: User, biller: Merchant, change: dict, code: str
) -> None:
    consent = billing_consent(citizen, biller)
    if change.pop("revoked", False):
        Consent.objects.filter(pk=consent.pk).update(revoked_at=timezone.now())
        consent.refresh_from_db()
    if "due_date" in change:
        change["due_date"] = timezone.localdate() + timedelta(days=change["due_date"])
    record = _record(biller, consent, **change)
    with pytest.raises(DomainError) as single:
        services.bill_issue(
            merchant=biller,
            consent_id=consent.pk,
            amount=record.amount,
            due_date=record.due_date,
            description=record.description,
        )
    with pytest.raises(DomainError) as bulk:
        services.bills_record(
            bills=[record, _record(biller, consent, issued_at=consent.granted_at)]
        )
    assert (type(single.value), str(single.value)) == (type(bulk.value), str(bulk.value))
    assert single.value.code == code
    assert not Bill.objects.exists()


def test_a_history_bill_is_judged_on_its_own_day_of_issue(citizen: User, biller: Merchant) -> None:
    # A bill issued before its consent was granted is refused
    consent = billing_consent(citizen, biller)
    year_ago = consent.granted_at - timedelta(days=365)
    old = replace(
        _record(biller, consent, issued_at=year_ago),
        due_date=timezone.localdate(year_ago) + timedelta(days=14),
    )
    with pytest.raises(ValueError, match="consent its biller was granted before"):
        services.bills_record(bills=[old])
    assert not Bill.objects.exists()
    # Issued when the consent was live, a bill falls due up to BILL_DUE_WITHIN after
    last_day = timezone.localdate(consent.granted_at) + services.BILL_DUE_WITHIN
    services.bills_record(bills=[replace(old, issued_at=consent.granted_at, due_date=last_day)])
    assert Bill.objects.get().due_date == last_day


def test_a_paid_bill_has_its_payment_and_its_moment(citizen: User, biller: Merchant) -> None:
    consent = billing_consent(citizen, biller)
    record = _record(biller, consent, paid_at=timezone.now())
    with pytest.raises(ValueError, match="only a paid one, has its payment"):
        services.bills_record(bills=[record])
    assert not Bill.objects.exists()


def test_a_history_keeps_each_consent_within_its_monthly_limit(
    citizen: User, biller: Merchant
) -> None:
    # Given a consent of 500.00 a bill and 1,000.00 a month, and two bills of 500.00 in
    # the month of issue
    consent = billing_consent(citizen, biller)
    month = [_record(biller, consent, amount=MAX_BILL) for _ in range(2)]
    assert MAX_BILL * 2 == MAX_MONTHLY
    # Then a third in that month is refused, with the limit and the month named, and
    # nothing is written
    with pytest.raises(DomainError) as refused:
        services.bills_record(bills=[*month, _record(biller, consent, amount=1)])
    assert (refused.value.code, refused.value.extras) == (
        "bill_over_limit",
        {"limit": MAX_MONTHLY, "period": "month"},
    )
    assert not Bill.objects.exists()
    # And the two alone are recorded
    assert services.bills_record(bills=month) == 2

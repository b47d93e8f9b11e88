"""Bills end to end through the HTTP API: a biller with the citizen's billing consent
issues a bill, the citizen lists and pays it from the wallet, and the daily task records
bills left unpaid past their due date.

Every path asserts the exact money (the wallet, the biller's settlement account, the
ledger's invariants) and the exact credit events: paid by the due date is one "bill paid
on time", after it one "bill paid late", and a late payment after the overdue record
still counts as one late payment.
"""

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from merchants import services
from merchants.bills import services as bills_services
from merchants.bills.models import Bill, BillStatus
from merchants.bills.tasks import record_overdue_bills
from merchants.models import Merchant
from merchants.perks import services as perks_services
from scoring.models import CreditEvent
from scoring.selectors import features_for_accounts
from scoring.subjects import bill_subject
from tests.conftest import client_for
from tests.merchants.conftest import (
    ClientResponse,
    assert_ledger_consistent,
    billing_consent,
    code_for,
    merchant_client,
)
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import LedgerAccount, Transfer, TransferKind, User

pytestmark = pytest.mark.django_db

BILLS_URL = "/api/v1/merchant/bills"
MY_BILLS_URL = "/api/v1/me/bills"
CONSENTS_URL = "/api/v1/merchant/consents"
CURRENCY = settings.WALLET_CURRENCY
AMOUNT = 12_345


def pay_url(bill_id: Any) -> str:
    return f"{MY_BILLS_URL}/{bill_id}/pay"


def issue(
    biller_api: APIClient, consent: Any, *, due_in_days: int = 10, **extra: Any
) -> ClientResponse:
    """The biller issues a bill under ``consent`` (an id); ``extra`` overrides the body."""
    body = {
        "consent_id": str(consent),
        "amount": AMOUNT,
        "due_date": str(timezone.localdate() + timedelta(days=due_in_days)),
        "description": "Water, November",
        **extra,
    }
    return biller_api.post(BILLS_URL, body, format="json")


def bill_events(user: User) -> list[tuple[str, str, bool]]:
    """(kind, subject, counts now) of the user's bill events, oldest first."""
    now = timezone.now()
    return [
        (event.kind, event.subject, event.settled_at is None or event.settled_at > now)
        for event in CreditEvent.objects.filter(account=user, kind__startswith="bill_").order_by(
            "occurred_at", "pk"
        )
    ]


def late_payments(user: User) -> int:
    """The "late payments (24 months)" fact as the scorecard reads it now."""
    [(_, features)] = features_for_accounts(first_id=user.pk, last_id=user.pk, at=timezone.now())
    return features.late_payments_24m


def balance(account: LedgerAccount) -> int:
    account.refresh_from_db()
    return account.balance


@pytest.fixture
def bill(citizen: User, biller: Merchant, biller_api: APIClient) -> dict[str, Any]:
    """An open bill of AMOUNT to the citizen, due in 10 days, as the biller got it back."""
    response = issue(biller_api, billing_consent(citizen, biller).pk)
    assert response.status_code == 201, response.content
    return response.json()


# --- Issuing ---------------------------------------------------------------------------


def test_a_biller_redeems_a_billing_code_and_issues_a_bill_the_citizen_sees(
    citizen: User, biller: Merchant, biller_api: APIClient, citizen_api: APIClient
) -> None:
    # Given a billing code the citizen gave the water company, redeemed for a consent
    redeemed = biller_api.post(
        CONSENTS_URL, {"code": code_for(citizen, scope="billing")}, format="json"
    )
    assert redeemed.status_code == 201, redeemed.content
    due = timezone.localdate() + timedelta(days=14)
    # When the biller issues a bill under it
    response = biller_api.post(
        BILLS_URL,
        {
            "consent_id": redeemed.json()["id"],
            "amount": AMOUNT,
            "due_date": str(due),
            "description": "Water, November",
        },
        format="json",
    )
    # Then the bill is open, and the citizen sees it with the biller's name
    assert response.status_code == 201, response.content
    body = response.json()
    bill = Bill.objects.get()
    assert body == {
        "id": str(bill.pk),
        "consent_id": redeemed.json()["id"],
        "amount": AMOUNT,
        "currency": CURRENCY,
        "description": "Water, November",
        "due_date": str(due),
        "status": "open",
        "issued_at": body["issued_at"],
        "paid_at": None,
        "is_overdue": False,
        "past_due": False,
        "paid_on_time": None,
        "overdue_at": body["overdue_at"],
    }
    # overdue (reported) 30 days after the end of the due date, in the server's time zone
    assert datetime.fromisoformat(body["overdue_at"]) == datetime.combine(
        due + timedelta(days=31), time.min, tzinfo=timezone.get_current_timezone()
    )
    assert (bill.citizen_id, bill.merchant_id) == (citizen.pk, biller.pk)
    mine = citizen_api.get(MY_BILLS_URL).json()
    assert mine["count"] == 1
    assert mine["results"][0]["biller"] == {
        "id": str(biller.pk),
        "name": "City Water",
        "category": "biller",
    }
    assert mine["results"][0]["status"] == "open"
    # And the biller lists and reads it
    assert [row["id"] for row in biller_api.get(BILLS_URL).json()["results"]] == [str(bill.pk)]
    assert biller_api.get(f"{BILLS_URL}/{bill.pk}").json()["id"] == str(bill.pk)
    # And issuing a bill records nothing about the citizen's reliability yet
    assert bill_events(citizen) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "12.50"}, "amount"),
        ({"due_date": "yesterday"}, "due_date"),
        ({"description": ""}, "description"),
        ({"description": "x" * 501}, "description"),
        ({"consent_id": "not-a-uuid"}, "consent_id"),
    ],
)
def test_bad_bills_are_refused_with_the_field_named_and_nothing_written(
    citizen: User, biller: Merchant, biller_api: APIClient, change: dict, field: str
) -> None:
    consent = billing_consent(citizen, biller)
    response = issue(biller_api, consent.pk, **change)
    assert response.status_code == 400, response.content
    assert field in {error["field"] for error in response.json()["errors"]}
    assert Bill.objects.count() == 0


@pytest.mark.parametrize("due_in_days", [-1, 367])
def test_a_due_date_in_the_past_or_beyond_a_year_is_refused(
    citizen: User, biller: Merchant, biller_api: APIClient, due_in_days: int
) -> None:
    response = issue(biller_api, billing_consent(citizen, biller).pk, due_in_days=due_in_days)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "due_date"
    assert Bill.objects.count() == 0


@pytest.mark.parametrize("due_in_days", [0, 6])
def test_a_bill_due_less_than_7_days_after_issue_is_refused(
    citizen: User, biller: Merchant, biller_api: APIClient, due_in_days: int
) -> None:
    response = issue(biller_api, billing_consent(citizen, biller).pk, due_in_days=due_in_days)
    assert response.status_code == 400, response.content
    first_day = timezone.localdate() + timedelta(days=7)
    assert response.json()["code"] == "due_date_too_soon"
    assert response.json()["errors"] == [
        {
            "field": "due_date",
            "message": "A bill is due at least 7 days after it is issued: on "
            f"{first_day.isoformat()} or later.",
            "code": "due_date_too_soon",
        }
    ]
    assert Bill.objects.count() == 0


def test_a_bill_due_7_days_after_issue_is_accepted(
    citizen: User, biller: Merchant, biller_api: APIClient
) -> None:
    response = issue(biller_api, billing_consent(citizen, biller).pk, due_in_days=7)
    assert response.status_code == 201, response.content


def test_billing_needs_a_live_billing_consent_of_this_biller(
    citizen: User,
    biller: Merchant,
    biller_api: APIClient,
    hotel: Merchant,
    hotel_api: APIClient,
) -> None:
    # A deposit-waiver consent does not allow billing
    waiver = services.consent_redeem(merchant=biller, code=code_for(citizen))
    response = issue(biller_api, waiver.pk)
    assert (response.status_code, response.json()["code"]) == (403, "consent_scope")
    # A revoked billing consent does not either
    revoked = billing_consent(citizen, biller)
    services.consent_revoke(citizen=citizen, consent=revoked)
    response = issue(biller_api, revoked.pk)
    assert (response.status_code, response.json()["code"]) == (403, "consent_revoked")
    # Another biller's consent is not found
    other = perks_services.merchant_onboard(name="Power Co", category="biller")
    theirs = billing_consent(citizen, other)
    response = issue(biller_api, theirs.pk)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    # A hotel is not a biller, even with a billing consent
    hotels = services.consent_redeem(merchant=hotel, code=code_for(citizen, scope="billing"))
    response = issue(hotel_api, hotels.pk)
    assert (response.status_code, response.json()["code"]) == (403, "not_a_biller")
    assert Bill.objects.count() == 0


def test_issuing_ignores_server_fields_in_the_body(
    citizen: User, other_citizen: User, biller: Merchant, biller_api: APIClient
) -> None:
    response = issue(
        biller_api,
        billing_consent(citizen, biller).pk,
        status="paid",
        paid_at="2000-01-01T00:00:00Z",
        citizen=other_citizen.pk,
        currency="USD",
    )
    assert response.status_code == 201, response.content
    bill = Bill.objects.get()
    assert (bill.status, bill.paid_at, bill.citizen_id, bill.currency) == (
        BillStatus.OPEN,
        None,
        citizen.pk,
        CURRENCY,
    )


def test_issuing_with_an_idempotency_key_issues_once(
    citizen: User, biller: Merchant, biller_api: APIClient
) -> None:
    consent = billing_consent(citizen, biller)
    biller_api.credentials(
        # the key the fixture set; the stubs leave out the client's private _credentials
        HTTP_AUTHORIZATION=biller_api._credentials["HTTP_AUTHORIZATION"],  # type: ignore[attr-defined]
        HTTP_IDEMPOTENCY_KEY="invoice-2026-11-0042",
    )
    first = issue(biller_api, consent.pk)
    second = issue(biller_api, consent.pk)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert Bill.objects.count() == 1


# --- Listing ---------------------------------------------------------------------------


def test_the_citizen_filters_bills_by_status_and_sees_only_their_own(
    citizen: User,
    other_citizen: User,
    biller: Merchant,
    biller_api: APIClient,
    citizen_api: APIClient,
) -> None:
    top_up_paid(citizen, AMOUNT)
    paid = issue(biller_api, billing_consent(citizen, biller).pk).json()
    bills_services.bill_pay(citizen=citizen, bill_id=paid["id"])
    open_ = issue(biller_api, billing_consent(citizen, biller).pk).json()
    theirs = issue(biller_api, billing_consent(other_citizen, biller).pk).json()

    def ids(query: str) -> set[str]:
        response = citizen_api.get(f"{MY_BILLS_URL}{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {paid["id"], open_["id"]}
    assert ids("?status=open") == {open_["id"]}
    assert ids("?status=paid") == {paid["id"]}
    assert theirs["id"] not in ids("")
    response = citizen_api.get(f"{MY_BILLS_URL}?status=late")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"


def test_another_biller_cannot_read_the_bill(
    bill: dict[str, Any], other_hotel_api: APIClient
) -> None:
    other = perks_services.merchant_onboard(name="Power Co", category="biller")
    other_api = merchant_client(services.api_key_create(merchant=other, name="k")[1])
    assert other_api.get(f"{BILLS_URL}/{bill['id']}").status_code == 404
    assert other_api.get(BILLS_URL).json()["count"] == 0


# --- Paying ----------------------------------------------------------------------------


def test_paying_by_the_due_date_moves_the_money_and_records_one_on_time_payment(
    citizen: User, biller: Merchant, citizen_api: APIClient, bill: dict[str, Any]
) -> None:
    # Given 200.00 in the wallet
    top_up_paid(citizen, 20_000)
    wallet = LedgerAccount.objects.get(user=citizen)
    # When the citizen pays the bill
    response = citizen_api.post(pay_url(bill["id"]), HTTP_IDEMPOTENCY_KEY="pay-1")
    # Then the bill is paid on time, the money is with the biller, one event counts
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["paid_on_time"], body["is_overdue"]) == ("paid", True, False)
    assert balance(wallet) == 20_000 - AMOUNT
    assert balance(biller.settlement) == AMOUNT
    stored = Bill.objects.get(pk=bill["id"])
    assert stored.payment is not None
    assert stored.payment.kind == TransferKind.PAYMENT
    assert stored.payment.reference == bill_subject(stored.pk)
    assert bill_events(citizen) == [("bill_paid_on_time", bill_subject(stored.pk), True)]
    event = CreditEvent.objects.get(account=citizen)
    assert (event.amount, event.currency) == (AMOUNT, CURRENCY)
    assert late_payments(citizen) == 0
    assert_ledger_consistent()


def test_paying_on_the_due_date_itself_is_on_time(
    citizen: User, biller: Merchant, biller_api: APIClient, citizen_api: APIClient, travel: Any
) -> None:
    top_up_paid(citizen, AMOUNT)
    bill = issue(biller_api, billing_consent(citizen, biller).pk, due_in_days=7).json()
    due = date.fromisoformat(bill["due_date"])
    # The last hour of the due date, in the deployment's time zone
    last_hour = datetime.combine(due, time(23, 0), tzinfo=timezone.get_current_timezone())
    travel(last_hour - timezone.now())
    response = citizen_api.post(pay_url(bill["id"]))
    assert response.json()["paid_on_time"] is True
    assert [kind for kind, _, _ in bill_events(citizen)] == ["bill_paid_on_time"]


def test_paying_past_the_due_date_but_within_30_days_is_on_time(
    citizen: User, citizen_api: APIClient, bill: dict[str, Any], travel: Any
) -> None:
    # Given the due date passed 30 days ago (the last day before it is reported)
    top_up_paid(citizen, AMOUNT)
    travel(timedelta(days=10 + 30))
    citizen_api = client_for(citizen)  # signed in again: a token unused for 30 days ends
    mine = citizen_api.get(MY_BILLS_URL).json()["results"][0]
    assert (mine["past_due"], mine["is_overdue"]) == (True, False)
    assert bills_services.bills_record_overdue() == 0
    # When the citizen pays
    response = citizen_api.post(pay_url(bill["id"]))
    # Then it counts as paid on time: nothing was reported
    assert response.status_code == 200, response.content
    assert (response.json()["paid_on_time"], response.json()["past_due"]) == (True, False)
    assert bill_events(citizen) == [
        ("bill_paid_on_time", bill_subject(uuid.UUID(bill["id"])), True)
    ]
    assert late_payments(citizen) == 0


def test_paying_30_days_after_the_due_date_records_one_late_payment(
    citizen: User, citizen_api: APIClient, bill: dict[str, Any], travel: Any
) -> None:
    # Given the bill overdue (30 days after its due date) and the task has not run yet
    top_up_paid(citizen, AMOUNT)
    travel(timedelta(days=10 + 31))
    citizen_api = client_for(citizen)  # signed in again: a token unused for 30 days ends
    # When the citizen pays
    response = citizen_api.post(pay_url(bill["id"]))
    # Then it is one late payment, and no overdue record
    assert response.status_code == 200, response.content
    assert response.json()["paid_on_time"] is False
    assert bill_events(citizen) == [("bill_paid_late", bill_subject(uuid.UUID(bill["id"])), True)]
    assert late_payments(citizen) == 1


def test_the_daily_task_records_overdue_once_and_the_late_payment_does_not_count_it_twice(
    citizen: User, citizen_api: APIClient, bill: dict[str, Any], travel: Any
) -> None:
    # Given the bill is unpaid 30 days after its due date
    due = date.fromisoformat(bill["due_date"])
    travel(timedelta(days=10 + 31))
    citizen_api = client_for(citizen)  # signed in again: a token unused for 30 days ends
    # When the daily task runs, twice
    assert record_overdue_bills.delay().get() == 1
    assert record_overdue_bills.delay().get() == 0
    # Then one overdue record counts, dated the first moment 30 days after the due date
    subject = bill_subject(uuid.UUID(bill["id"]))
    assert bill_events(citizen) == [("bill_overdue", subject, True)]
    overdue = CreditEvent.objects.get(account=citizen)
    assert timezone.localtime(overdue.occurred_at) == datetime.combine(
        due + timedelta(days=31), time.min, tzinfo=timezone.get_current_timezone()
    )
    assert citizen_api.get(MY_BILLS_URL).json()["results"][0]["is_overdue"] is True
    assert late_payments(citizen) == 1
    # When the citizen pays it later
    travel(timedelta(days=5))
    top_up_paid(citizen, AMOUNT)
    response = citizen_api.post(pay_url(bill["id"]))
    assert response.status_code == 200, response.content
    # Then the late payment replaces the overdue record: one late payment, not two
    assert bill_events(citizen) == [
        ("bill_overdue", subject, False),
        ("bill_paid_late", subject, True),
    ]
    assert late_payments(citizen) == 1
    # And the task leaves a paid bill alone
    assert record_overdue_bills.delay().get() == 0


def test_the_task_skips_bills_not_yet_30_days_past_their_due_date(
    citizen: User, bill: dict[str, Any], travel: Any
) -> None:
    travel(timedelta(days=10))  # the due date itself: still on time
    assert bills_services.bills_record_overdue() == 0
    travel(timedelta(days=30))  # the 30th day after it: past due, not reported
    assert bills_services.bills_record_overdue() == 0
    assert bill_events(citizen) == []
    travel(timedelta(days=1))  # the 31st: overdue
    assert bills_services.bills_record_overdue() == 1


def test_paying_twice_with_one_key_pays_once(
    citizen: User, biller: Merchant, citizen_api: APIClient, bill: dict[str, Any]
) -> None:
    top_up_paid(citizen, 50_000)
    wallet = LedgerAccount.objects.get(user=citizen)
    first = citizen_api.post(pay_url(bill["id"]), HTTP_IDEMPOTENCY_KEY="pay-water-nov")
    second = citizen_api.post(pay_url(bill["id"]), HTTP_IDEMPOTENCY_KEY="pay-water-nov")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert balance(wallet) == 50_000 - AMOUNT
    assert balance(biller.settlement) == AMOUNT
    assert Transfer.objects.filter(kind=TransferKind.PAYMENT).count() == 1
    assert len(bill_events(citizen)) == 1
    # A new key for a paid bill is refused, and nothing moves
    third = citizen_api.post(pay_url(bill["id"]), HTTP_IDEMPOTENCY_KEY="pay-again")
    assert (third.status_code, third.json()["code"]) == (409, "bill_already_paid")
    assert balance(wallet) == 50_000 - AMOUNT
    assert len(bill_events(citizen)) == 1


def test_without_enough_money_nothing_is_written(
    citizen: User, biller: Merchant, citizen_api: APIClient, bill: dict[str, Any]
) -> None:
    # Given less than the bill in the wallet
    top_up_paid(citizen, AMOUNT - 1)
    wallet = LedgerAccount.objects.get(user=citizen)
    transfers = Transfer.objects.count()
    # When the citizen tries to pay
    response = citizen_api.post(pay_url(bill["id"]), HTTP_IDEMPOTENCY_KEY="k")
    # Then it is refused, and nothing moved or was recorded
    assert (response.status_code, response.json()["code"]) == (422, "insufficient_funds")
    assert Bill.objects.get(pk=bill["id"]).status == BillStatus.OPEN
    assert balance(wallet) == AMOUNT - 1
    assert balance(biller.settlement) == 0
    assert Transfer.objects.count() == transfers
    assert bill_events(citizen) == []
    # And the same key works once the money is there
    top_up_paid(citizen, 1)
    assert citizen_api.post(pay_url(bill["id"]), HTTP_IDEMPOTENCY_KEY="k").status_code == 200


def test_held_money_cannot_pay_a_bill(
    citizen: User, citizen_api: APIClient, bill: dict[str, Any]
) -> None:
    top_up_paid(citizen, AMOUNT)
    wallet = LedgerAccount.objects.get(user=citizen)
    wallet_services.hold_place(
        account=wallet, amount=1, description="deposit", expires_at=timezone.now() + timedelta(1)
    )
    response = citizen_api.post(pay_url(bill["id"]))
    assert (response.status_code, response.json()["code"]) == (422, "insufficient_funds")
    assert bill_events(citizen) == []


def test_nobody_else_can_pay_or_see_the_bill(other_citizen: User, bill: dict[str, Any]) -> None:
    top_up_paid(other_citizen, 50_000)
    client = client_for(other_citizen)
    response = client.post(pay_url(bill["id"]))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert client.get(MY_BILLS_URL).json()["count"] == 0
    assert Bill.objects.get(pk=bill["id"]).status == BillStatus.OPEN
    assert LedgerAccount.objects.get(user=other_citizen).balance == 50_000


def test_bills_need_a_signed_in_citizen(api: APIClient, bill: dict[str, Any]) -> None:
    assert api.get(MY_BILLS_URL).status_code == 401
    assert api.post(pay_url(bill["id"])).status_code == 401
    assert api.post(BILLS_URL, {}, format="json").status_code == 401


def test_the_wallet_and_the_records_say_what_a_bill_was_as_a_code_and_parameters(
    citizen: User, citizen_api: APIClient, bill: dict[str, Any], travel: Any
) -> None:
    # Given the bill left overdue, then paid late
    travel(timedelta(days=10 + 31))
    citizen_api = client_for(citizen)  # signed in again: a token unused for 30 days ends
    assert record_overdue_bills.delay().get() == 1
    top_up_paid(citizen, AMOUNT)
    assert citizen_api.post(pay_url(bill["id"])).status_code == 200
    # When the citizen reads the wallet's transactions and the records
    transactions = citizen_api.get("/api/v1/me/transactions").json()["results"]
    events = citizen_api.get("/api/v1/me/events").json()["results"]
    # Then each says what it was as a code and parameters, beside the English text
    merchant = "City Water"
    assert [
        (t["description"], t["description_code"], t["description_params"]) for t in transactions
    ] == [
        (
            f"Bill from {merchant}: Water, November",
            "bill",
            {"merchant": merchant, "what": "Water, November"},
        ),
        ("Top-up", "kind_only", {}),
    ]
    assert [(e["kind"], e["description_code"], e["description_params"]) for e in events] == [
        ("bill_paid_late", "bill", {"merchant": merchant}),
        ("bill_overdue", "bill", {"merchant": merchant, "due_date": bill["due_date"]}),
    ]

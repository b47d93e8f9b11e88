"""/me/wallet, /me/transactions and /me/top-ups through the HTTP API."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from common.models import IdempotencyKey
from tests.conftest import PASSWORD, client_for
from tests.money import top_up_paid
from wallet import services
from wallet.models import Entry, LedgerAccount, Transfer

WALLET = "/api/v1/me/wallet"
TRANSACTIONS = "/api/v1/me/transactions"
TOP_UPS = "/api/v1/me/top-ups"

pytestmark = pytest.mark.django_db


def ledger_counts() -> tuple[int, int, int]:
    return Transfer.objects.count(), Entry.objects.count(), IdempotencyKey.objects.count()


def test_wallet_of_a_new_citizen_is_empty(citizen_api):
    response = citizen_api.get(WALLET)
    assert response.status_code == 200
    assert response.json() == {
        "currency": "CNY",
        "balance": 0,
        "held": 0,
        "available": 0,
        "currency_decimals": 2,
        "max_top_up": settings.WALLET_MAX_TOP_UP,
    }


def test_wallet_shows_held_and_available(citizen_api, citizen, funded):
    # Given 300.00 with 120.00 held
    wallet = funded(30_000)
    services.hold_place(
        account=wallet, amount=12_000, expires_at=timezone.now() + timedelta(days=3)
    )
    # Then
    assert citizen_api.get(WALLET).json() == {
        "currency": "CNY",
        "balance": 30_000,
        "held": 12_000,
        "available": 18_000,
        "currency_decimals": 2,
        "max_top_up": settings.WALLET_MAX_TOP_UP,
    }


def test_wallet_needs_credentials(api):
    response = api.get(WALLET)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_top_up_answers_the_transaction_and_the_new_wallet(citizen_api, citizen):
    # When
    response = citizen_api.post(TOP_UPS, {"amount": 30_000}, format="json")
    # Then
    assert response.status_code == 201
    body = response.json()
    transfer = Transfer.objects.get()
    assert body["transaction"] == {
        "id": str(transfer.id),
        "kind": "top_up",
        "amount": 30_000,
        "currency": "CNY",
        "description": "Top-up",
        "description_code": "kind_only",
        "description_params": {},
        "created_at": body["transaction"]["created_at"],
    }
    assert body["wallet"] == {
        "currency": "CNY",
        "balance": 30_000,
        "held": 0,
        "available": 30_000,
        "currency_decimals": 2,
        "max_top_up": settings.WALLET_MAX_TOP_UP,
    }
    assert LedgerAccount.objects.get(user=citizen).balance == 30_000
    assert sorted(transfer.entries.values_list("amount", flat=True)) == [-30_000, 30_000]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"amount": 0}, "min_value"),
        ({"amount": -100}, "min_value"),
        ({"amount": 10.5}, "not_integer"),
        ({"amount": 100.0}, "not_integer"),
        ({"amount": "100"}, "not_integer"),
        ({"amount": "abc"}, "not_integer"),
        ({"amount": True}, "not_integer"),
        ({"amount": None}, "null"),
        ({"amount": [100]}, "not_integer"),
        ({"amount": 10**30}, "max_value"),
        ({"amount": 5_000_001}, "invalid"),
        ({}, "required"),
    ],
)
def test_top_up_refuses_bad_amounts_and_writes_nothing(citizen_api, citizen, payload, code):
    before = ledger_counts()
    response = citizen_api.post(TOP_UPS, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["status"] == 400
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("amount", code)]
    assert ledger_counts() == before
    assert LedgerAccount.objects.get(user=citizen).balance == 0


def test_top_up_refuses_malformed_json_and_writes_nothing(citizen_api, citizen):
    response = citizen_api.generic("POST", TOP_UPS, "{amount: 1", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert ledger_counts() == (0, 0, 0)


def test_top_up_refuses_a_body_that_is_not_an_object(citizen_api, citizen):
    response = citizen_api.generic("POST", TOP_UPS, "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert ledger_counts() == (0, 0, 0)


def test_top_up_refuses_other_media_types(citizen_api, citizen):
    response = citizen_api.generic("POST", TOP_UPS, "amount=5", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert ledger_counts() == (0, 0, 0)


@override_settings(WALLET_MAX_TOP_UP=1_000)
def test_top_up_limit_comes_from_settings(citizen_api):
    assert citizen_api.post(TOP_UPS, {"amount": 1_000}, format="json").status_code == 201
    refused = citizen_api.post(TOP_UPS, {"amount": 1_001}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "amount"


def test_top_up_needs_credentials(api):
    assert api.post(TOP_UPS, {"amount": 100}, format="json").status_code == 401
    assert ledger_counts() == (0, 0, 0)


# --- Idempotency -------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_answer(citizen_api, citizen):
    first = citizen_api.post(
        TOP_UPS, {"amount": 500}, format="json", HTTP_IDEMPOTENCY_KEY="top-up-1"
    )
    again = citizen_api.post(
        TOP_UPS, {"amount": 500}, format="json", HTTP_IDEMPOTENCY_KEY="top-up-1"
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Transfer.objects.count() == 1
    assert LedgerAccount.objects.get(user=citizen).balance == 500


def test_same_key_with_a_different_body_is_409(citizen_api, citizen):
    citizen_api.post(TOP_UPS, {"amount": 500}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = citizen_api.post(TOP_UPS, {"amount": 600}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Transfer.objects.count() == 1
    assert LedgerAccount.objects.get(user=citizen).balance == 500


def test_keys_are_scoped_to_the_caller(citizen_api, citizen, other_citizen):
    other = client_for(other_citizen)
    citizen_api.post(TOP_UPS, {"amount": 500}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    response = other.post(TOP_UPS, {"amount": 500}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert LedgerAccount.objects.get(user=other_citizen).balance == 500
    assert LedgerAccount.objects.get(user=citizen).balance == 500


def test_a_failed_request_does_not_burn_its_key(citizen_api, citizen):
    refused = citizen_api.post(TOP_UPS, {"amount": -1}, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert refused.status_code == 400
    assert IdempotencyKey.objects.count() == 0
    retried = citizen_api.post(TOP_UPS, {"amount": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert retried.status_code == 201
    assert LedgerAccount.objects.get(user=citizen).balance == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_idempotency_key_length_is_checked(citizen_api, citizen, key):
    response = citizen_api.post(TOP_UPS, {"amount": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert ledger_counts() == (0, 0, 0)


def test_longest_idempotency_key_is_accepted(citizen_api):
    response = citizen_api.post(
        TOP_UPS, {"amount": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 255
    )
    assert response.status_code == 201


def test_schema_states_the_idempotency_key_length_that_is_checked(client):
    """The schema gives the 1 to 255 characters the server checks (it said any string, so
    a conforming client could send a key that is refused)."""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    (parameter,) = schema["paths"][TOP_UPS]["post"]["parameters"]
    assert (parameter["name"], parameter["in"]) == ("Idempotency-Key", "header")
    assert parameter["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}


# --- Transactions ---------------------------------------------------------------------


def test_transactions_are_signed_for_this_wallet_newest_first(
    citizen_api, citizen, funded, settlement
):
    # Given a top-up of 100.00 and a payment of 30.00
    funded(10_000)
    services.payment_create(
        user=citizen, destination=settlement, amount=3_000, description="Hotel Lotus"
    )
    # When
    response = citizen_api.get(TRANSACTIONS)
    # Then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None
    assert body["previous"] is None
    assert [(t["kind"], t["amount"], t["description"]) for t in body["results"]] == [
        ("payment", -3_000, "Hotel Lotus"),
        ("top_up", 10_000, "Top-up"),
    ]


def test_transactions_hold_only_the_callers(citizen_api, citizen, other_citizen):
    top_up_paid(other_citizen, 777)
    top_up_paid(citizen, 111)
    results = citizen_api.get(TRANSACTIONS).json()["results"]
    assert [t["amount"] for t in results] == [111]


def test_transactions_filter_by_kind_and_time(citizen_api, citizen, funded, settlement):
    funded(10_000)
    services.payment_create(user=citizen, destination=settlement, amount=100)
    payments = citizen_api.get(TRANSACTIONS, {"kind": "payment"}).json()
    assert [t["kind"] for t in payments["results"]] == ["payment"]

    future = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert citizen_api.get(TRANSACTIONS, {"since": future}).json()["count"] == 0
    assert citizen_api.get(TRANSACTIONS, {"until": future}).json()["count"] == 2


@pytest.mark.parametrize(
    "query", [{"kind": "not-a-kind"}, {"since": "yesterday"}, {"until": "2026-13-45"}]
)
def test_transactions_refuse_bad_filters(citizen_api, citizen, query):
    response = citizen_api.get(TRANSACTIONS, query)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == next(iter(query))


def test_transactions_filter_by_an_instant_at_any_offset(citizen_api, citizen, funded):
    """An offset beyond PostgreSQL's ±15:59 is still a valid ISO 8601 instant: it is
    read as that instant (it used to reach PostgreSQL as is and answer 500)."""
    funded(10_000)
    soon = timezone.now() + timedelta(minutes=5)
    far_east = soon.astimezone(timezone.get_fixed_timezone(23 * 60 + 59)).isoformat()
    assert far_east.endswith("+23:59")
    since = citizen_api.get(TRANSACTIONS, {"since": far_east})
    until = citizen_api.get(TRANSACTIONS, {"until": far_east})
    assert (since.status_code, since.json()["count"]) == (200, 0)
    assert (until.status_code, until.json()["count"]) == (200, 1)


@pytest.mark.parametrize(
    "query", [{"since": "0001-01-01T00:00:00+01:00"}, {"until": "9999-12-31T23:59:59-01:00"}]
)
def test_transactions_refuse_instants_outside_the_calendar(citizen_api, citizen, query):
    """An instant before year 1 or after year 9999 in UTC is refused with 400 (it used to
    overflow converting to UTC and answer 500)."""
    response = citizen_api.get(TRANSACTIONS, query)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": next(iter(query)),
            "message": "Give an instant between the years 1 and 9999 in UTC.",
            "code": "out_of_range",
        }
    ]


def test_transactions_answer_404_past_the_last_page_as_documented(citizen_api, client):
    """A page past the last answers 404, and the schema says so (it did not)."""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    responses = schema["paths"][TRANSACTIONS]["get"]["responses"]
    assert "application/problem+json" in responses["404"]["content"]
    response = citizen_api.get(TRANSACTIONS, {"page": 2})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_transactions_are_paginated(citizen_api, citizen):
    for amount in range(1, 26):
        top_up_paid(citizen, amount)
    first = citizen_api.get(TRANSACTIONS).json()
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["next"] is not None
    second = citizen_api.get(first["next"]).json()
    assert [t["amount"] for t in second["results"]] == [5, 4, 3, 2, 1]
    assert citizen_api.get(TRANSACTIONS, {"page": 99}).status_code == 404


def test_transactions_list_costs_a_fixed_number_of_queries(
    citizen_api, citizen, django_assert_max_num_queries
):
    for amount in range(1, 21):
        top_up_paid(citizen, amount)
    with django_assert_max_num_queries(4):
        response = citizen_api.get(TRANSACTIONS)
    assert len(response.json()["results"]) == 20


@override_settings(WALLET_CURRENCY="JPY", WALLET_MAX_TOP_UP=90_000)
def test_the_wallet_says_its_currencys_decimals_and_the_largest_top_up(db):
    # A yen has no minor unit: 5000 is ¥5,000, not ¥50.00
    api = client_for(services.user_register(username="kenji", password=PASSWORD))
    body = api.get(WALLET).json()
    assert (body["currency"], body["currency_decimals"], body["max_top_up"]) == ("JPY", 0, 90_000)
    # And a top-up over it is refused on its field
    response = api.post(TOP_UPS, {"amount": 90_001}, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["amount"]

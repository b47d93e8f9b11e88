"""POST/GET /me/top-ups: a top-up is paid for before the wallet is credited."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from common.models import IdempotencyKey
from tests.conftest import client_for
from tests.money import top_up_paid
from tests.wallet.payments.conftest import TOP_UPS, balance_of, pending_top_up
from wallet.models import Entry, TopUp, Transfer
from wallet.payments import sandbox
from wallet.payments import services as payments

pytestmark = pytest.mark.django_db


@override_settings(PAYMENTS_SANDBOX_AUTO_CONFIRM=False)
def test_a_top_up_credits_nothing_until_it_is_paid(citizen, citizen_api):
    """The mint. Before the payments core (commit 9ccc9ea), ``POST /me/top-ups`` called
    ``wallet.services.top_up_create``, which credited the wallet from the funding account
    at once and answered 201 with ``{"transaction", "wallet"}``: no ``status``, no
    ``checkout_url``, and a balance of 50,000.00 after the call. Each assertion below fails
    there; any citizen could mint money a call."""
    response = citizen_api.post(TOP_UPS, {"amount": 5_000_000}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    top_up = TopUp.objects.get(pk=body["id"])
    assert body["checkout_url"] == f"/sandbox/checkout/{top_up.provider_reference}"
    assert body["transaction"] is None
    assert body["resolved_at"] is None
    assert (body["wallet"]["balance"], body["wallet"]["available"]) == (0, 0)
    assert balance_of(citizen) == 0
    assert Transfer.objects.count() == 0


def test_with_auto_confirm_a_top_up_answers_with_its_credit(citizen, citizen_api):
    response = citizen_api.post(TOP_UPS, {"amount": 30_000}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["checkout_url"] is None
    assert body["amount"] == 30_000
    assert body["currency"] == "CNY"
    assert body["provider"] == "sandbox"
    assert body["resolved_at"] is not None
    assert body["transaction"]["amount"] == 30_000
    assert body["transaction"]["kind"] == "top_up"
    assert body["wallet"]["balance"] == 30_000
    assert body["wallet"]["payout_destination"].startswith("Sandbox account ···")
    assert balance_of(citizen) == 30_000


def test_the_same_idempotency_key_answers_the_same_and_credits_once(citizen, citizen_api):
    first = citizen_api.post(
        TOP_UPS, {"amount": 10_000}, format="json", headers={"Idempotency-Key": "t-1"}
    )
    again = citizen_api.post(
        TOP_UPS, {"amount": 10_000}, format="json", headers={"Idempotency-Key": "t-1"}
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert TopUp.objects.count() == 1
    assert balance_of(citizen) == 10_000
    assert IdempotencyKey.objects.count() == 1


@override_settings(PAYMENTS_SANDBOX_AUTO_CONFIRM=False)
def test_the_same_idempotency_key_opens_one_checkout(citizen_api):
    answers = [
        citizen_api.post(
            TOP_UPS, {"amount": 10_000}, format="json", headers={"Idempotency-Key": "t-2"}
        )
        for _ in range(2)
    ]

    assert answers[0].json() == answers[1].json()
    assert TopUp.objects.count() == 1


@pytest.mark.parametrize("amount", [0, -1, "100", 1.5, None, 5_000_001])
def test_a_top_up_of_a_bad_amount_is_refused_with_nothing_written(citizen_api, amount):
    response = citizen_api.post(TOP_UPS, {"amount": amount}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "amount"
    assert (TopUp.objects.count(), Entry.objects.count()) == (0, 0)


def test_a_citizen_lists_and_reads_only_their_own_top_ups(citizen, other_citizen, citizen_api):
    mine = [pending_top_up(citizen, 1_000), top_up_paid(citizen, 2_000).top_up]
    theirs = pending_top_up(other_citizen, 3_000)

    listed = citizen_api.get(TOP_UPS).json()["results"]

    assert [item["id"] for item in listed] == [str(mine[1].pk), str(mine[0].pk)]
    assert [item["status"] for item in listed] == ["succeeded", "pending"]
    assert "wallet" not in listed[0]
    assert listed[0]["transaction"]["amount"] == 2_000
    assert citizen_api.get(f"{TOP_UPS}/{mine[0].pk}").json()["status"] == "pending"
    assert citizen_api.get(f"{TOP_UPS}/{theirs.pk}").status_code == 404
    assert client_for(other_citizen).get(f"{TOP_UPS}/{mine[0].pk}").status_code == 404


def test_top_ups_need_credentials(api):
    assert api.post(TOP_UPS, {"amount": 100}, format="json").status_code == 401
    assert api.get(TOP_UPS).status_code == 401


def test_a_declined_top_up_has_no_checkout_and_says_why(citizen, citizen_api):
    top_up = pending_top_up(citizen, 1_000)
    payments.notification_receive(
        provider_name="sandbox",
        signed=sandbox.checkout_decline(
            reference=top_up.provider_reference, amount=1_000, currency="CNY"
        ),
    )

    body = citizen_api.get(f"{TOP_UPS}/{top_up.pk}").json()
    assert (body["status"], body["checkout_url"]) == ("failed", None)
    assert body["failure_reason"] == "The payer declined the payment."
    assert balance_of(citizen) == 0


def test_a_page_of_top_ups_costs_the_same_queries_however_many(
    citizen, citizen_api, django_assert_max_num_queries
):
    for amount in (1_000, 2_000):
        top_up_paid(citizen, amount)
    with CaptureQueriesContext(connection) as two:
        citizen_api.get(TOP_UPS)
    for amount in range(1, 9):
        top_up_paid(citizen, amount)
    pending_top_up(citizen, 5)

    with django_assert_max_num_queries(len(two.captured_queries)):
        page = citizen_api.get(TOP_UPS).json()["results"]
    assert len(page) == 11

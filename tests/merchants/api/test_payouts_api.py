"""``GET /api/v1/merchant/payouts``: a merchant's own payouts, newest first, paginated,
with its API key; another merchant's are never shown."""

from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from merchants import services
from merchants.models import Merchant
from tests.conftest import client_for
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import Payout, PayoutStatus, User

pytestmark = pytest.mark.django_db

URL = "/api/v1/merchant/payouts"


def paid_out(merchant: Merchant, guest: User, amount: int, capture: Any) -> Payout:
    """The guest pays the merchant ``amount``, which staff then pay out (sent to the
    provider when it commits)."""
    top_up_paid(guest, amount)
    wallet_services.payment_create(
        user=guest, destination=merchant.settlement, amount=amount, description="Stay"
    )
    with capture(execute=True):
        result = services.settlement_pay_out(merchant=merchant, threshold=1)
    assert result.payout is not None
    return Payout.objects.get(pk=result.payout.pk)


def test_a_merchant_lists_its_payouts_newest_first(
    hotel: Merchant,
    hotel_api: APIClient,
    citizen: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = paid_out(hotel, citizen, 12_000, django_capture_on_commit_callbacks)
    services.merchant_update(
        merchant=hotel, name=hotel.name, is_active=True, payout_destination="failing ···0000"
    )
    second = paid_out(hotel, citizen, 3_000, django_capture_on_commit_callbacks)

    response = hotel_api.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    newest, oldest = body["results"]
    assert newest == {
        "id": str(second.pk),
        "status": PayoutStatus.FAILED,
        "amount": 3_000,
        "currency": settings.WALLET_CURRENCY,
        "destination": "failing ···0000",
        "failure_reason": "The destination account refused the payment.",
        "created_at": newest["created_at"],
        "resolved_at": newest["resolved_at"],
    }
    assert oldest["id"] == str(first.pk)
    assert (oldest["status"], oldest["amount"], oldest["destination"]) == (
        PayoutStatus.PAID,
        12_000,
        hotel.payout_destination,
    )
    assert oldest["failure_reason"] == ""
    assert None not in (oldest["created_at"], oldest["resolved_at"], newest["resolved_at"])


def test_another_merchant_never_sees_them(
    hotel: Merchant,
    hotel_api: APIClient,
    other_hotel: Merchant,
    other_hotel_api: APIClient,
    citizen: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mine = paid_out(hotel, citizen, 12_000, django_capture_on_commit_callbacks)
    theirs = paid_out(other_hotel, citizen, 7_000, django_capture_on_commit_callbacks)

    own = hotel_api.get(URL).json()
    other = other_hotel_api.get(URL).json()

    assert [row["id"] for row in own["results"]] == [str(mine.pk)]
    assert [row["id"] for row in other["results"]] == [str(theirs.pk)]


def test_a_merchant_with_no_payouts_sees_an_empty_list(
    hotel_api: APIClient,
    other_hotel: Merchant,
    citizen: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    paid_out(other_hotel, citizen, 12_000, django_capture_on_commit_callbacks)
    assert hotel_api.get(URL).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_pages_are_the_standard_ones(
    hotel: Merchant,
    hotel_api: APIClient,
    citizen: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for amount in (1_000, 2_000, 3_000):
        paid_out(hotel, citizen, amount, django_capture_on_commit_callbacks)
    first = hotel_api.get(URL, {"page_size": 2}).json()
    second = hotel_api.get(URL, {"page_size": 2, "page": 2}).json()
    assert [row["amount"] for row in first["results"] + second["results"]] == [3_000, 2_000, 1_000]
    assert hotel_api.get(URL, {"page": 9}).status_code == 404


@pytest.mark.parametrize("caller", ["nobody", "citizen", "bad key"])
def test_only_a_merchants_key_is_accepted(caller: str, citizen: User, hotel: Merchant) -> None:
    client = {
        "nobody": APIClient(),
        "citizen": client_for(citizen),
        "bad key": APIClient(HTTP_AUTHORIZATION="Bearer sk_live_nope_nope"),
    }[caller]
    response = client.get(URL)
    assert response.status_code == 401
    assert "results" not in response.json()


def test_the_list_costs_the_same_queries_for_one_payout_or_three(
    hotel: Merchant,
    hotel_api: APIClient,
    citizen: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def queries() -> int:
        assert hotel_api.get(URL).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            assert hotel_api.get(URL).status_code == 200
        return len(captured.captured_queries)

    paid_out(hotel, citizen, 1_000, django_capture_on_commit_callbacks)
    one = queries()
    for amount in (2_000, 3_000):
        paid_out(hotel, citizen, amount, django_capture_on_commit_callbacks)
    # The key with its merchant, COUNT and the page: the settlement account is not read
    assert queries() == one == 3

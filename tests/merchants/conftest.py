"""Fixtures of the merchants tests: two hotels with keys, citizens whose records earn a
given band, codes, decisions, and the ledger's invariants as one assertion."""

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest
from django.db.models import Count, Sum
from django.http import HttpResponseBase
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient

from merchants import services
from merchants.models import Consent, Merchant
from merchants.perks import services as perks_services
from scoring import services as scoring_services
from scoring.facts import EventKinds
from wallet import services as wallet_services
from wallet.models import AccountKind, Entry, Hold, HoldStatus, IdentityLevel, LedgerAccount, User

# What the test clients return: the response with the client's additions (json(), context,
# wsgi_request). Only the stubs name these types, so at run time the names are the classes
# they extend.
if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse
    from rest_framework.response import _MonkeyPatchedResponse

    ClientResponse: TypeAlias = _MonkeyPatchedResponse
    PageResponse: TypeAlias = _MonkeyPatchedWSGIResponse
else:
    ClientResponse = Response
    PageResponse = HttpResponseBase

ELIGIBILITY_URL = "/api/v1/merchant/eligibility"
BOOKINGS_URL = "/api/v1/merchant/bookings"
CODES_URL = "/api/v1/me/authorization-codes"


def merchant_client(raw_key: str) -> APIClient:
    """An API client sending ``raw_key`` as a merchant's Bearer key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def make_reliable(user: User, *, on_time_bills: int = 1) -> User:
    """Give ``user`` a verified identity and bills paid on time: with one bill the
    default scorecard puts them at 740 (excellent). Without bills (``on_time_bills=0``)
    a verified identity alone gives 620 (good)."""
    wallet_services.user_identity_level_set(user=user, level=IdentityLevel.DOCUMENT)
    now = timezone.now()
    for index in range(on_time_bills):
        scoring_services.record_event(
            account=user,
            kind=EventKinds.BILL_PAID_ON_TIME,
            occurred_at=now - timedelta(days=10 + index),
            source=f"test-bill:{user.pk}:{index}",
        )
    scoring_services.score_recompute(account_id=user.pk, trigger="manual")
    return user


# The billing limits the app proposes (minor units), for billing codes made in tests.
MAX_BILL = 50_000
MAX_MONTHLY = 100_000


def code_for(
    user: User,
    scope: str = "deposit_waiver",
    merchant: Merchant | None = None,
    *,
    max_bill_amount: int = MAX_BILL,
    max_monthly_amount: int = MAX_MONTHLY,
) -> str:
    """A fresh one-time code of ``user``; a billing code with the limits given (the
    app's proposed ones by default)."""
    billing = scope == "billing"
    _, code = services.authorization_code_create(
        citizen=user,
        scope=scope,
        merchant=merchant,
        max_bill_amount=max_bill_amount if billing else None,
        max_monthly_amount=max_monthly_amount if billing else None,
    )
    return code


@pytest.fixture
def hotel(db: None) -> Merchant:
    return perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")


@pytest.fixture
def other_hotel(db: None) -> Merchant:
    return perks_services.merchant_onboard(name="Hill Hotel", category="hotel")


@pytest.fixture
def hotel_key(hotel: Merchant) -> str:
    return services.api_key_create(merchant=hotel, name="front desk")[1]


@pytest.fixture
def other_hotel_key(other_hotel: Merchant) -> str:
    return services.api_key_create(merchant=other_hotel, name="front desk")[1]


@pytest.fixture
def hotel_api(hotel_key: str) -> APIClient:
    return merchant_client(hotel_key)


@pytest.fixture
def other_hotel_api(other_hotel_key: str) -> APIClient:
    return merchant_client(other_hotel_key)


@pytest.fixture
def biller(db: None) -> Merchant:
    return perks_services.merchant_onboard(name="City Water", category="biller")


@pytest.fixture
def biller_api(biller: Merchant) -> APIClient:
    return merchant_client(services.api_key_create(merchant=biller, name="billing run")[1])


def billing_consent(user: User, biller: Merchant) -> Consent:
    """A live billing consent of ``user`` to ``biller``, as a redeemed code makes it."""
    return services.consent_redeem(merchant=biller, code=code_for(user, scope="billing"))


@pytest.fixture
def decide(hotel_api: APIClient) -> Callable[..., dict[str, Any]]:
    """Ask the hotel's eligibility endpoint with a new code of ``user``; returns the body."""

    def run(user: User, amount: int, client: APIClient | None = None) -> dict[str, Any]:
        response = (client or hotel_api).post(
            ELIGIBILITY_URL,
            {"code": code_for(user), "perk": "deposit_waiver", "amount": amount},
            format="json",
        )
        assert response.status_code == 200, response.json()
        return response.json()

    return run


def booking_body(decision_id: str, deposit_amount: int, reference: str = "R-1") -> dict:
    today = timezone.localdate()
    return {
        "decision_id": decision_id,
        "reference": reference,
        "check_in": str(today),
        "check_out": str(today + timedelta(days=2)),
        "deposit_amount": deposit_amount,
    }


def assert_ledger_consistent() -> None:
    """The ledger's invariants: every transfer has two or more entries summing to zero,
    cached balances and held amounts equal their entries and active holds, and no
    wallet's available balance is below zero."""
    for transfer_id, legs, total in (
        Entry.objects.values("transfer")
        .annotate(legs=Count("pk"), total=Sum("amount"))
        .values_list("transfer", "legs", "total")
    ):
        assert legs >= 2, f"transfer {transfer_id} has {legs} legs"
        assert total == 0, f"transfer {transfer_id} sums to {total}"
    entry_sums = dict(
        Entry.objects.values("account")
        .annotate(total=Sum("amount"))
        .values_list("account", "total")
    )
    held = dict(
        Hold.objects.filter(status=HoldStatus.ACTIVE)
        .values("account")
        .annotate(total=Sum("amount"))
        .values_list("account", "total")
    )
    for account in LedgerAccount.objects.all():
        assert account.balance == entry_sums.get(account.pk, 0), account.code
        assert account.held == held.get(account.pk, 0), account.code
        if account.kind == AccountKind.WALLET:
            assert account.available >= 0, account.code

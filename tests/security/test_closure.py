"""Abuse case: closing an account to walk away from money or obligations. The closure is
refused with every obligation named, and nothing at all changes: the person can still
sign in, their consents and tokens stand, their wallet and records are untouched."""

from datetime import timedelta
from typing import Any, cast

import pytest
from django.utils import timezone
from knox.models import AuthToken

from merchants.models import Consent, Merchant
from merchants.perks import services as perks_services
from tests.conftest import PASSWORD
from tests.merchants.conftest import billing_consent
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import LedgerAccount, PhoneVerification, User

CLOSE = "/api/v1/me/close"
ME = "/api/v1/me"

pytestmark = pytest.mark.django_db


def snapshot(user: User) -> dict[str, object]:
    """Everything a closure would change, read fresh from the database."""
    user = User.objects.get(pk=user.pk)
    wallet = LedgerAccount.objects.get(user=user)
    return {
        "user": (
            user.username,
            user.display_name,
            user.email,
            user.phone_number,
            user.is_active,
            user.closed_at,
            user.password,
        ),
        "wallet": (wallet.balance, wallet.held),
        "consents": sorted(Consent.objects.filter(citizen=user).values_list("pk", "revoked_at")),
        "tokens": AuthToken.objects.filter(user=user).count(),
        "phone_codes": PhoneVerification.objects.filter(user=user).count(),
        "history": cast(Any, User).history.filter(id=user.pk).count(),
    }


@pytest.fixture
def biller(db: None) -> Merchant:
    return perks_services.merchant_onboard(name="City Water", category="biller")


@pytest.fixture
def citizen_with_money(citizen: User, biller: Merchant) -> User:
    top_up_paid(citizen, 12_345)
    billing_consent(citizen, biller)
    citizen.email, citizen.phone_number = "alice@example.com", "+8613800138000"
    citizen.save(update_fields=["email", "phone_number"])
    PhoneVerification.objects.create(
        user=citizen,
        number="+8613800138000",
        code_digest="0" * 64,
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=10),
        verified_at=timezone.now(),
    )
    return citizen


def test_closure_with_money_left_is_refused_and_changes_nothing(citizen_with_money, citizen_api):
    before = snapshot(citizen_with_money)

    response = citizen_api.post(CLOSE, {"password": PASSWORD}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["status"]) == ("account_has_obligations", 409)
    assert body["obligations"] == [
        {"code": "balance", "message": "There is money in your wallet: withdraw it first."}
    ]
    assert snapshot(citizen_with_money) == before
    # The token still works, and the password still signs in.
    assert citizen_api.get(ME).json()["username"] == "alice"
    assert User.objects.get(pk=citizen_with_money.pk).check_password(PASSWORD)


def test_closure_with_a_wrong_password_changes_nothing(citizen_with_money, citizen_api):
    before = snapshot(citizen_with_money)

    response = citizen_api.post(CLOSE, {"password": PASSWORD + "x"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "password_incorrect"
    assert snapshot(citizen_with_money) == before
    assert citizen_api.get(ME).status_code == 200


def test_a_caller_closes_only_their_own_account(citizen_with_money, api):
    other = wallet_services.user_register(username="mallory", password=PASSWORD)
    api.force_authenticate(other)
    before = snapshot(citizen_with_money)

    response = api.post(CLOSE, {"password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert snapshot(citizen_with_money) == before
    assert User.objects.get(pk=other.pk).closed_at is not None

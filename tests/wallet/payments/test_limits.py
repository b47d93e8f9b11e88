"""Top-up and withdrawal limits by identity level, with the production defaults
(``config.settings.PAYMENTS_LIMITS``; the test settings lift every limit)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from tests.money import top_up_paid
from tests.wallet.payments.conftest import TOP_UPS, WITHDRAWALS, balance_of, pending_top_up
from wallet import services as ledger
from wallet.models import IdentityLevel, TopUp, TransferKind
from wallet.payments import tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("production_limits")]

# A zone far from UTC, so that its midnight is not the server clock's.
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _time_zone():
    with override_settings(TIME_ZONE=str(ZONE)):
        yield


def at(
    year: int, month: int, day: int, hour: int, minute: int, second: int = 0
) -> time_machine.travel:
    """The clock pinned at a wall-clock time in ZONE."""
    moment = datetime(year, month, day, hour, minute, second, tzinfo=ZONE)
    return time_machine.travel(moment, tick=False)


def top_up(api, amount: int):
    return api.post(TOP_UPS, {"amount": amount}, format="json")


def assert_limit(response, *, code: str, limit: int, period: str, detail: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["code"], body["limit"], body["period"]) == (code, limit, period)
    assert body["detail"] == detail
    assert body["errors"][0]["field"] == "amount"


def test_the_daily_top_up_limit_ends_at_midnight_in_the_time_zone(citizen, citizen_api):
    with at(2026, 3, 10, 9, 0):
        assert top_up(citizen_api, 150_000).status_code == 201
        assert top_up(citizen_api, 50_000).status_code == 201  # exactly the limit
    with at(2026, 3, 10, 23, 59, 59):
        assert_limit(
            top_up(citizen_api, 1),
            code="top_up_limit",
            limit=200_000,
            period="day",
            detail="A top-up of 0.01 CNY would go over your daily top-up limit of "
            "2,000.00 CNY: you can top up 0.00 CNY more today.",
        )
    # Midnight in Shanghai is 16:00 UTC: still the 10th on the server's clock.
    with at(2026, 3, 11, 0, 0, 1):
        assert top_up(citizen_api, 200_000).status_code == 201
    assert TopUp.objects.filter(user=citizen).count() == 3


def test_a_refusal_says_how_much_is_left(citizen, citizen_api):
    with at(2026, 3, 10, 9, 0):
        top_up(citizen_api, 150_000)

        assert_limit(
            top_up(citizen_api, 60_000),
            code="top_up_limit",
            limit=200_000,
            period="day",
            detail="A top-up of 600.00 CNY would go over your daily top-up limit of "
            "2,000.00 CNY: you can top up 500.00 CNY more today.",
        )
        assert citizen_api.get("/api/v1/me/wallet").json()["top_up_limit"] == 50_000
    assert balance_of(citizen) == 150_000


def test_the_monthly_top_up_limit_ends_with_the_month_in_the_time_zone(citizen, citizen_api):
    ledger.user_identity_level_set(user=citizen, level=IdentityLevel.PHONE)  # 5,000.00 a day
    for day in (27, 28, 29, 30):
        with at(2026, 1, day, 12, 0):
            assert top_up(citizen_api, 500_000).status_code == 201
    with at(2026, 1, 31, 23, 59, 59):
        assert_limit(
            top_up(citizen_api, 100),
            code="top_up_limit",
            limit=2_000_000,
            period="month",
            detail="A top-up of 1.00 CNY would go over your monthly top-up limit of "
            "20,000.00 CNY: you can top up 0.00 CNY more this month.",
        )
    with at(2026, 2, 1, 0, 0, 1):  # 2026-01-31 16:00:01 UTC
        assert top_up(citizen_api, 500_000).status_code == 201
    assert balance_of(citizen) == 2_500_000


def test_the_balance_ceiling_counts_the_balance_and_pending_top_ups(
    citizen, other_citizen, citizen_api, settings
):
    # Given 9,500.00 received from another citizen (no top-up of the citizen's own)
    limits = settings.PAYMENTS_LIMITS
    with override_settings(
        PAYMENTS_LIMITS={
            level: {
                **limits[0],
                "top_up_daily": 10**9,
                "top_up_monthly": 10**9,
                "balance_max": 10**9,
            }
            for level in limits
        }
    ):
        top_up_paid(other_citizen, 950_000)
    ledger.transfer_funds(
        source=ledger.wallet_open(user=other_citizen),
        destination=ledger.wallet_open(user=citizen),
        amount=950_000,
        kind=TransferKind.ADJUSTMENT,
    )
    with at(2026, 3, 10, 9, 0):
        pending_top_up(citizen, 30_000)

        assert_limit(
            top_up(citizen_api, 30_000),
            code="top_up_limit",
            limit=1_000_000,
            period="balance",
            detail="A top-up of 300.00 CNY would go over your wallet's balance ceiling "
            "(pending top-ups included) of 10,000.00 CNY: you can top up 200.00 CNY more.",
        )
        assert top_up(citizen_api, 20_000).status_code == 201
    assert balance_of(citizen) == 970_000


@pytest.mark.parametrize("swept", [True, False], ids=["swept", "not swept yet"])
def test_pending_top_ups_count_until_they_expire(citizen, citizen_api, swept):
    with at(2026, 3, 10, 9, 0):
        pending_top_up(citizen, 150_000)
        assert top_up(citizen_api, 60_000).json()["period"] == "day"
    with at(2026, 3, 10, 9, 29, 59):
        assert top_up(citizen_api, 60_000).json()["period"] == "day"
    with at(2026, 3, 10, 9, 30, 0):  # PAYMENTS_TOP_UP_EXPIRES_AFTER later
        if swept:
            tasks.expire_top_ups.apply()
        assert top_up(citizen_api, 200_000).status_code == 201
    assert balance_of(citizen) == 200_000


def test_identity_level_two_has_higher_limits(citizen, citizen_api):
    with at(2026, 3, 10, 9, 0):
        assert top_up(citizen_api, 300_000).json()["code"] == "top_up_limit"
        ledger.user_identity_level_set(user=citizen, level=IdentityLevel.DOCUMENT)
        assert top_up(citizen_api, 3_000_000).status_code == 201
        assert citizen_api.get("/api/v1/me/wallet").json()["top_up_limit"] == 2_000_000
    assert balance_of(citizen) == 3_000_000


def test_the_daily_withdrawal_limit(citizen, citizen_api, settings):
    ledger.user_identity_level_set(user=citizen, level=IdentityLevel.DOCUMENT)
    with at(2026, 3, 10, 9, 0):
        top_up(citizen_api, 400_000)
    ledger.user_identity_level_set(user=citizen, level=IdentityLevel.NONE)
    with at(2026, 3, 10, 10, 0):
        assert citizen_api.post(WITHDRAWALS, {"amount": 150_000}, format="json").status_code == 201
        assert citizen_api.get("/api/v1/me/wallet").json()["withdrawal_limit"] == 50_000
        assert_limit(
            citizen_api.post(WITHDRAWALS, {"amount": 60_000}, format="json"),
            code="withdrawal_limit",
            limit=200_000,
            period="day",
            detail="A withdrawal of 600.00 CNY would go over your daily withdrawal limit of "
            "2,000.00 CNY: you can withdraw 500.00 CNY more today.",
        )
    with at(2026, 3, 11, 0, 0, 1):
        assert citizen_api.post(WITHDRAWALS, {"amount": 200_000}, format="json").status_code == 201
    assert balance_of(citizen) == 50_000

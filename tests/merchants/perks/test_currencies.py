"""Money in the server's words follows the deployment's currency and its own precision:
a deployment in yen writes no decimals, one in Kuwaiti dinars writes three. The reasons
of a decision, a perk's requirements, the access log and the admin's money columns."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from merchants.models import Merchant
from merchants.perks import services
from merchants.perks.models import Booking
from scoring.models import AccessLogEntry
from tests.conftest import client_for
from tests.merchants.conftest import code_for, make_reliable
from wallet.models import User

pytestmark = pytest.mark.django_db

# (currency, a deposit in its minor units, that deposit in words, the "good" tier of the
# default rules, 50,000 minor units, in words)
CURRENCIES = [
    ("JPY", 50_000, "50,000 JPY", "50,000 JPY"),
    ("KWD", 1_234, "1.234 KWD", "50.000 KWD"),
]


@pytest.fixture(params=CURRENCIES, ids=[row[0] for row in CURRENCIES])
def deployment(request: pytest.FixtureRequest, settings: Settings) -> tuple[str, ...]:
    """A deployment in another currency, set before any account or merchant exists."""
    currency, *_ = request.param
    settings.WALLET_CURRENCY = currency
    return request.param


@pytest.fixture
def guest(deployment: tuple[str, ...], citizen: User) -> User:
    return make_reliable(citizen)


@pytest.fixture
def inn(deployment: tuple[str, ...]) -> Merchant:
    return services.merchant_onboard(name="Harbour Hotel", category="hotel")


def test_a_decisions_reason_is_in_the_currencys_precision(
    deployment: tuple, guest: User, inn: Merchant
) -> None:
    currency, deposit, words, _ = deployment
    # When the hotel asks about a deposit
    decision = services.eligibility_decide(
        merchant=inn, perk_kind="deposit_waiver", amount=deposit, code=code_for(guest)
    )
    # Then the reason writes it with the currency's own decimals
    assert decision.currency == currency
    assert decision.reasons == [
        {"code": "deposit_waived", "message": f"The whole deposit of {words} is waived."}
    ]


def test_the_access_log_says_the_amount_in_the_currencys_precision(
    deployment: tuple, guest: User, inn: Merchant
) -> None:
    _, deposit, words, _ = deployment
    services.eligibility_decide(
        merchant=inn, perk_kind="deposit_waiver", amount=deposit, code=code_for(guest)
    )
    currency = deployment[0]
    entry = AccessLogEntry.objects.get(citizen=guest)
    assert (entry.purpose_code, entry.amount, entry.currency) == (
        "deposit_waiver",
        deposit,
        currency,
    )
    assert entry.purpose == f"Deposit waiver of {words}"
    client = client_for(guest)
    typed = {
        "purpose": f"Deposit waiver of {words}",
        "purpose_code": "deposit_waiver",
        "amount": deposit,
        "currency": currency,
    }
    (row,) = client.get("/api/v1/me/access-log").json()["results"]
    assert {key: row[key] for key in typed} == typed
    (exported,) = client.get("/api/v1/me/export").json()["access_log"]
    assert {key: exported[key] for key in typed} == typed


def test_a_perks_requirements_are_in_the_currencys_precision(
    deployment: tuple, guest: User, inn: Merchant
) -> None:
    *_, good_tier = deployment
    # When the citizen reads the hotel's rules
    perks = client_for(guest).get("/api/v1/me/perks").json()
    # Then each tier's amount has the currency's own decimals
    (row,) = [perk for perk in perks["results"] if perk["merchant"]["name"] == "Harbour Hotel"]
    assert f"Band Good: up to {good_tier} waived" in [line["text"] for line in row["requirements"]]


def test_admin_money_columns_are_in_the_currencys_precision(
    deployment: tuple, guest: User, inn: Merchant, admin_client: Client
) -> None:
    _, deposit, words, _ = deployment
    decision = services.eligibility_decide(
        merchant=inn, perk_kind="deposit_waiver", amount=deposit, code=code_for(guest)
    )
    today = timezone.localdate()
    services.booking_create(
        merchant=inn,
        decision_id=decision.pk,
        reference="R-1",
        check_in=today,
        check_out=today + timedelta(days=2),
        deposit_amount=deposit,
    )
    opts = Booking._meta
    page = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert f'<td class="field-deposit">{words}</td>' in page.content.decode()

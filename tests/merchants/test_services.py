"""Services of the merchants app that the API does not reach: merchants and perks."""

import copy

import pytest

from merchants import services
from merchants.models import Merchant
from merchants.perks import services as perks_services
from merchants.perks.errors import PerkAlreadyActive
from merchants.perks.models import Perk
from merchants.perks.rules import DEFAULT_RULES, RulesInvalid
from wallet.models import LedgerAccount

pytestmark = pytest.mark.django_db


def test_renaming_a_merchant_renames_its_settlement_account(hotel: Merchant) -> None:
    services.merchant_update(merchant=hotel, name="  Harbour Hotel & Spa ", is_active=True)
    hotel.refresh_from_db()
    assert hotel.name == "Harbour Hotel & Spa"
    assert LedgerAccount.objects.get(pk=hotel.settlement_id).name == "Harbour Hotel & Spa"


def test_a_deactivated_merchants_keys_stop_working(hotel: Merchant, hotel_key: str) -> None:
    assert services.api_key_use(raw_key=hotel_key) is not None
    services.merchant_update(merchant=hotel, name=hotel.name, is_active=False)
    assert services.api_key_use(raw_key=hotel_key) is None


def test_a_merchant_needs_a_name(hotel: Merchant) -> None:
    with pytest.raises(ValueError, match="1 to 200 characters"):
        services.merchant_update(merchant=hotel, name="   ", is_active=True)
    hotel.refresh_from_db()
    assert hotel.name == "Harbour Hotel"


def test_a_second_active_perk_of_a_kind_is_refused_and_nothing_written(hotel: Merchant) -> None:
    with pytest.raises(PerkAlreadyActive):
        perks_services.perk_create(
            merchant=hotel, kind="deposit_waiver", max_amount=10_000, rules=DEFAULT_RULES
        )
    assert Perk.objects.filter(merchant=hotel).count() == 1


def test_activating_a_second_perk_is_refused(hotel: Merchant) -> None:
    spare = perks_services.perk_create(
        merchant=hotel,
        kind="deposit_waiver",
        max_amount=10_000,
        rules=DEFAULT_RULES,
        is_active=False,
    )
    with pytest.raises(PerkAlreadyActive):
        perks_services.perk_update(
            perk=spare, max_amount=10_000, rules=DEFAULT_RULES, is_active=True
        )
    spare.refresh_from_db()
    assert spare.is_active is False


def test_perk_rules_are_stored_with_every_code_written_out(hotel: Merchant) -> None:
    perk = Perk.objects.get(merchant=hotel)
    assert [condition["code"] for condition in perk.rules["conditions"]] == [
        "score_not_met",
        "unpaid_claims",
        "identity_level_not_met",
    ]


def test_invalid_rules_change_nothing(hotel: Merchant) -> None:
    perk = Perk.objects.get(merchant=hotel)
    before = copy.deepcopy(perk.rules)
    wrong = copy.deepcopy(DEFAULT_RULES)
    wrong["conditions"][0]["fact"] = "balance"
    with pytest.raises(RulesInvalid, match="'balance' is not a fact"):
        perks_services.perk_update(perk=perk, max_amount=100, rules=wrong, is_active=True)
    with pytest.raises(RulesInvalid, match="max_amount"):
        perks_services.perk_update(perk=perk, max_amount=-1, rules=DEFAULT_RULES, is_active=True)
    perk.refresh_from_db()
    assert (perk.rules, perk.max_amount) == (before, 200_000)

"""``manage.py create_merchant``: a merchant, its perk if it takes deposits, and a key that
is printed once, alone on the last line, and works."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from merchants import services
from merchants.models import ALL_SCOPES, ApiKey, Merchant
from merchants.perks.models import Perk
from merchants.perks.rules import DEFAULT_RULES, Rules
from wallet.models import AccountKind, LedgerAccount

pytestmark = pytest.mark.django_db


def create_merchant(*args: str, **options: str) -> list[str]:
    """Run the command; returns its output's lines."""
    out = StringIO()
    call_command("create_merchant", *args, stdout=out, **options)
    return out.getvalue().splitlines()


def nothing_created() -> bool:
    return (
        Merchant.objects.count(),
        ApiKey.objects.count(),
        Perk.objects.count(),
        LedgerAccount.objects.filter(kind=AccountKind.SETTLEMENT).count(),
    ) == (0, 0, 0, 0)


@pytest.mark.parametrize("category", ["hotel", "rental"])
def test_a_hotel_or_rental_gets_a_working_key_and_the_default_deposit_waiver(
    category: str,
) -> None:
    # When staff create a merchant that takes deposits
    lines = create_merchant("Seaside Inn", category=category)

    # Then the last line is the key alone, and it authenticates the new merchant
    merchant = Merchant.objects.get()
    (api_key,) = ApiKey.objects.all()
    raw_key = lines[-1]
    assert raw_key == raw_key.strip()
    assert " " not in raw_key
    assert raw_key.startswith(f"{api_key.prefix}_")
    used = services.api_key_use(raw_key=raw_key)
    assert used is not None
    assert (used.pk, used.merchant_id) == (api_key.pk, merchant.pk)
    # And the key is printed nowhere else, nor stored
    assert sum(raw_key in line for line in lines) == 1
    assert raw_key not in api_key.digest

    # And the merchant has its settlement account and one active default perk
    assert (merchant.name, merchant.category, merchant.is_active) == ("Seaside Inn", category, True)
    assert merchant.settlement.kind == AccountKind.SETTLEMENT
    assert str(merchant.pk) in "\n".join(lines)
    (perk,) = Perk.objects.all()
    assert (perk.merchant_id, perk.kind, perk.is_active) == (merchant.pk, "deposit_waiver", True)
    assert perk.rules == Rules.from_data(DEFAULT_RULES).as_data()
    assert perk.max_amount == 200_000


def test_a_biller_gets_a_working_key_and_no_perk() -> None:
    lines = create_merchant("City Water", category="biller")
    merchant = Merchant.objects.get()
    assert merchant.category == "biller"
    used = services.api_key_use(raw_key=lines[-1])
    assert used is not None
    assert used.merchant_id == merchant.pk
    assert Perk.objects.count() == 0


def test_each_merchant_gets_its_own_key() -> None:
    first = create_merchant("Seaside Inn", category="hotel")[-1]
    second = create_merchant("Hill Hotel", category="hotel")[-1]
    assert first != second
    first_key = services.api_key_use(raw_key=first)
    second_key = services.api_key_use(raw_key=second)
    assert first_key is not None
    assert second_key is not None
    assert first_key.merchant.name == "Seaside Inn"
    assert second_key.merchant.name == "Hill Hotel"


@pytest.mark.parametrize("secret", ["abc_def_ghi", "-leading-dash", "trailing_", "__"])
def test_the_printed_key_works_whatever_characters_its_secret_has(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    # Given secrets drawn from the URL-safe alphabet, which includes "_" and "-"
    monkeypatch.setattr(services.secrets, "token_urlsafe", lambda nbytes=None: secret)
    # When a merchant is created
    lines = create_merchant("Seaside Inn", category="hotel")
    # Then its key still authenticates
    assert lines[-1].endswith(secret)
    assert services.api_key_use(raw_key=lines[-1]) is not None


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (("Seaside Inn",), {}, "--category"),
        (("Seaside Inn",), {"category": "spa"}, "invalid choice: 'spa'"),
        (("Seaside Inn",), {"category": ""}, "invalid choice"),
        ((), {"category": "hotel"}, "name"),
        (("",), {"category": "hotel"}, "1 to 200 characters"),
        (("   ",), {"category": "hotel"}, "1 to 200 characters"),
        (("x" * 201,), {"category": "hotel"}, "1 to 200 characters"),
    ],
    ids=[
        "missing category",
        "unknown category",
        "empty category",
        "missing name",
        "empty name",
        "blank name",
        "long name",
    ],
)
def test_bad_arguments_are_refused_with_a_helpful_message_and_create_nothing(
    args: tuple[str, ...], options: dict[str, str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        create_merchant(*args, **options)
    assert nothing_created()


def test_the_category_choices_are_listed_when_one_is_wrong() -> None:
    with pytest.raises(CommandError) as refusal:
        create_merchant("Seaside Inn", category="spa")
    for category in ("hotel", "rental", "biller"):
        assert category in str(refusal.value)
    assert nothing_created()


def test_the_key_has_every_scope_by_default() -> None:
    lines = create_merchant("Seaside Inn", category="hotel")
    assert ApiKey.objects.get().scopes == list(ALL_SCOPES)
    assert "Scopes: eligibility, bookings, claims, bills, disputes, webhooks" in lines


def test_the_key_has_the_scopes_asked_for() -> None:
    lines = create_merchant("City Water", category="biller", scopes="bills, eligibility,,")
    assert ApiKey.objects.get().scopes == ["eligibility", "bills"]
    assert lines[-2:-1] == [f"API key {ApiKey.objects.get().prefix}… (shown once, store it now):"]
    assert "Scopes: eligibility, bills" in lines


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        (
            "bills,billing",
            "--scopes: Unknown scope(s) 'billing'; the scopes are eligibility, bookings, "
            "claims, bills, disputes, webhooks.",
        ),
        (
            ",",
            "--scopes: Give the key at least one scope: eligibility, bookings, claims, bills, "
            "disputes, webhooks.",
        ),
    ],
)
def test_a_bad_scope_is_refused_with_the_scopes_listed_and_creates_nothing(
    scopes: str, message: str
) -> None:
    with pytest.raises(CommandError) as refusal:
        create_merchant("City Water", category="biller", scopes=scopes)
    assert str(refusal.value) == message
    assert nothing_created()

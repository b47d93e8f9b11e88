"""Making a key: its scopes, expiry and client networks are checked and stored in one
form (``services.api_key_create``); every problem is named at once, on its field, and
nothing is written then. Who made a key is recorded, on the row and in its audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from common.domain import FieldError, InvalidRequest
from merchants import services
from merchants.models import ALL_SCOPES, ApiKey, Merchant
from wallet.models import User

pytestmark = pytest.mark.django_db


def refusal(merchant: Merchant, **fields: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        services.api_key_create(merchant=merchant, **fields)
    assert not ApiKey.objects.exists()
    return raised.value


def test_a_key_has_every_scope_any_network_and_no_expiry_by_default(hotel: Merchant) -> None:
    api_key, raw_key = services.api_key_create(merchant=hotel, name="  front desk ")
    api_key.refresh_from_db()
    assert (api_key.name, api_key.scopes, api_key.allowed_networks, api_key.expires_at) == (
        "front desk",
        list(ALL_SCOPES),
        [],
        None,
    )
    assert ALL_SCOPES == ("eligibility", "bookings", "claims", "bills", "disputes", "webhooks")
    assert services.api_key_use(raw_key=raw_key) == api_key


def test_scopes_are_stored_each_once_in_their_order(hotel: Merchant) -> None:
    api_key, _ = services.api_key_create(
        merchant=hotel, scopes=["webhooks", "bookings", "webhooks", " eligibility "]
    )
    api_key.refresh_from_db()
    assert api_key.scopes == ["eligibility", "bookings", "webhooks"]
    # One scope given as a string is that scope
    single, _ = services.api_key_create(merchant=hotel, scopes="bills")
    assert single.scopes == ["bills"]


@pytest.mark.parametrize(
    ("scopes", "message", "code"),
    [
        (
            ["bookings", "refunds", "admin"],
            "Unknown scope(s) 'admin', 'refunds'; the scopes are eligibility, bookings, "
            "claims, bills, disputes, webhooks.",
            "unknown_scope",
        ),
        (
            [],
            "Give the key at least one scope: eligibility, bookings, claims, bills, disputes, "
            "webhooks.",
            "no_scope",
        ),
        (["Bookings"], None, "unknown_scope"),
    ],
)
def test_unknown_or_no_scopes_are_refused(
    hotel: Merchant, scopes: list[str], message: str | None, code: str
) -> None:
    error = refusal(hotel, scopes=scopes)
    (problem,) = error.errors
    assert (problem.field, problem.code) == ("scopes", code)
    if message is not None:
        assert problem.message == message
        assert error.detail == f"scopes: {message}"


def test_networks_are_stored_normalised(hotel: Merchant) -> None:
    api_key, _ = services.api_key_create(
        merchant=hotel,
        allowed_networks=[
            " 203.0.113.0/24",
            "198.51.100.7",
            "198.51.100.7/32",
            "2001:DB8::/32",
            "",
            "2001:db8::1",
        ],
    )
    api_key.refresh_from_db()
    assert api_key.allowed_networks == [
        "203.0.113.0/24",
        "198.51.100.7",
        "2001:db8::/32",
        "2001:db8::1",
    ]


@pytest.mark.parametrize(
    ("networks", "message"),
    [
        (["10.0.0.5/24"], "'10.0.0.5/24' has host bits set: the block is 10.0.0.0/24."),
        (["office"], "'office' is not an IP address or a CIDR block."),
        (["10.0.0.0/33"], "'10.0.0.0/33' is not an IP address or a CIDR block."),
        (
            ["10.0.0.1", "x", "10.0.0.1/8"],
            "'x' is not an IP address or a CIDR block. '10.0.0.1/8' has host bits set: the "
            "block is 10.0.0.0/8.",
        ),
    ],
)
def test_networks_that_are_not_addresses_or_blocks_are_refused(
    hotel: Merchant, networks: list[str], message: str
) -> None:
    error = refusal(hotel, allowed_networks=networks)
    assert error.errors == (FieldError("allowed_networks", message, "invalid_network"),)


def test_at_most_twenty_networks(hotel: Merchant) -> None:
    twenty = [f"10.0.{n}.0/24" for n in range(20)]
    assert services.api_key_create(merchant=hotel, allowed_networks=twenty)[0].allowed_networks
    ApiKey.objects.all().delete()
    error = refusal(hotel, allowed_networks=[*twenty, "10.1.0.0/16"])
    assert error.errors == (
        FieldError("allowed_networks", "At most 20 networks per key.", "too_many_networks"),
    )


def test_the_expiry_must_be_in_the_future_and_zoned(hotel: Merchant) -> None:
    now = timezone.now()
    assert refusal(hotel, expires_at=now).errors == (
        FieldError("expires_at", "The expiry must be in the future.", "past"),
    )
    assert refusal(hotel, expires_at=datetime(2099, 1, 1)).errors == (  # noqa: DTZ001
        FieldError("expires_at", "Give the expiry with its time zone.", "naive_datetime"),
    )
    later = now + timedelta(minutes=1)
    assert services.api_key_create(merchant=hotel, expires_at=later)[0].expires_at == later


def test_every_problem_is_named_at_once(hotel: Merchant) -> None:
    error = refusal(
        hotel,
        name="x" * 101,
        scopes=["nope"],
        expires_at=datetime(2001, 1, 1, tzinfo=UTC),
        allowed_networks=["nowhere"],
    )
    assert [(problem.field, problem.code) for problem in error.errors] == [
        ("name", "too_long"),
        ("scopes", "unknown_scope"),
        ("expires_at", "past"),
        ("allowed_networks", "invalid_network"),
    ]
    assert error.detail.startswith("name: At most 100 characters.; scopes: Unknown scope(s)")


def test_who_made_a_key_is_recorded_on_it_and_in_its_audit_trail(
    hotel: Merchant, admin_user: User
) -> None:
    api_key, _ = services.api_key_create(merchant=hotel, scopes=["bills"], by=admin_user)
    api_key.refresh_from_db()
    assert api_key.created_by == admin_user
    history: Any = api_key.history  # simple-history's manager, untyped
    (record,) = history.all()
    assert (record.history_type, record.history_user, record.scopes) == ("+", admin_user, ["bills"])
    # Revoked: who revoked it too
    services.api_key_revoke(api_key=api_key, by=admin_user)
    api_key.refresh_from_db()
    assert api_key.revoked_by == admin_user
    assert history.order_by("-history_date", "-history_id").first().history_user == admin_user


@pytest.mark.parametrize(
    ("networks", "address", "allowed"),
    [
        ([], "anything", True),
        (["203.0.113.0/24"], "203.0.113.255", True),
        (["203.0.113.0/24"], "::ffff:203.0.113.4", True),
        (["203.0.113.0/24"], "unknown", False),
        (["2001:db8::/32"], "203.0.113.4", False),
    ],
)
def test_which_addresses_a_keys_networks_allow(
    hotel: Merchant, networks: list[str], address: str, allowed: bool
) -> None:
    api_key, _ = services.api_key_create(merchant=hotel, allowed_networks=networks)
    assert services.api_key_network_allows(api_key=api_key, address=address) is allowed

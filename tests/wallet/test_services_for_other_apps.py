"""The wallet's services that let the apps above it change or lock wallet rows without
touching the tables themselves: renaming a settlement account, locking a live hold,
inserting a seeder's users."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wallet import services
from wallet.models import Hold, HoldStatus, LedgerAccount, User

pytestmark = pytest.mark.django_db


def test_a_settlement_account_is_renamed(settlement: LedgerAccount) -> None:
    services.settlement_account_rename(account_id=settlement.pk, name="Harbour Hotel & Spa")
    settlement.refresh_from_db()
    assert settlement.name == "Harbour Hotel & Spa"


def test_only_a_settlement_account_is_renamed_so(citizen: User) -> None:
    wallet = services.wallet_open(user=citizen)
    services.settlement_account_rename(account_id=wallet.pk, name="Not a wallet's name")
    wallet.refresh_from_db()
    assert wallet.name == f"Wallet of {citizen.username}"


def test_a_live_hold_is_returned_locked(funded: Callable[[int], LedgerAccount]) -> None:
    wallet = funded(1_000)
    hold = services.hold_place(
        account=wallet, amount=400, expires_at=timezone.now() + timedelta(hours=1)
    )
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        live = services.hold_lock_live(hold_id=hold.pk)
    assert live is not None
    assert (live.pk, live.status, live.amount) == (hold.pk, HoldStatus.ACTIVE, 400)
    if connection.features.has_select_for_update:
        assert any(
            "wallet_hold" in query["sql"] and "FOR UPDATE" in query["sql"]
            for query in queries.captured_queries
        )


def test_a_hold_past_its_expiry_is_expired_and_not_returned(
    funded: Callable[[int], LedgerAccount], travel: Callable[[timedelta], None]
) -> None:
    wallet = funded(1_000)
    hold = services.hold_place(
        account=wallet, amount=400, expires_at=timezone.now() + timedelta(hours=1)
    )
    # The expiry passes before the sweeper runs
    travel(timedelta(hours=2))
    with transaction.atomic():
        assert services.hold_lock_live(hold_id=hold.pk) is None
    hold.refresh_from_db()
    wallet.refresh_from_db()
    assert hold.status == HoldStatus.EXPIRED
    assert (wallet.balance, wallet.held, wallet.available) == (1_000, 0, 1_000)


@pytest.mark.parametrize("resolve", ["release", "capture"])
def test_a_resolved_hold_is_not_returned_and_nothing_changes(
    funded: Callable[[int], LedgerAccount], settlement: LedgerAccount, resolve: str
) -> None:
    wallet = funded(1_000)
    hold = services.hold_place(
        account=wallet, amount=400, expires_at=timezone.now() + timedelta(hours=1)
    )
    if resolve == "release":
        services.hold_release(hold_id=hold.pk)
    else:
        services.hold_capture(hold_id=hold.pk, amount=100, destination=settlement)
    before = Hold.objects.values().get(pk=hold.pk)
    with transaction.atomic():
        assert services.hold_lock_live(hold_id=hold.pk) is None
    assert Hold.objects.values().get(pk=hold.pk) == before


def test_a_seeders_users_are_inserted_in_order_with_ids() -> None:
    password = make_password(None)
    made = services.users_create_bulk(
        users=[User(username=f"resident-{n}", password=password) for n in range(3)]
    )
    assert [user.username for user in made] == ["resident-0", "resident-1", "resident-2"]
    assert all(user.pk is not None for user in made)
    assert [user.pk for user in made] == sorted(user.pk for user in made)
    assert User.objects.filter(username__startswith="resident-").count() == 3
    assert not LedgerAccount.objects.filter(user__in=made).exists()

"""The ledger refuses tampering, whoever asks.

On PostgreSQL the database itself refuses: a trigger rejects UPDATE and DELETE on
entries and transfers, and a deferred constraint trigger rejects, at commit, a transfer
whose entries do not balance. On every database, Python refuses changes to ledger rows
and check constraints keep a wallet's available balance from going below zero.

The deferred trigger only fires at commit, and a ``db`` test never commits: those tests
run ``SET CONSTRAINTS ALL IMMEDIATE`` to make PostgreSQL check what is pending now (the
same check it would run at commit). One test commits for real.
"""

from contextlib import contextmanager
from functools import partial

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone

from wallet import services
from wallet.models import (
    Entry,
    LedgerAccount,
    LedgerImmutableError,
    SystemAccount,
    Transfer,
    TransferKind,
)


def check_deferred_constraints():
    """Run the deferred constraint triggers now, as a commit would, then defer again."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def refused_by_database(match):
    """The block fails with IntegrityError matching ``match``; its savepoint is rolled
    back so the test's transaction goes on."""
    with pytest.raises(IntegrityError, match=match), transaction.atomic():
        yield


def ledger_rows():
    """Every ledger row and cached balance, to compare before and after an attempt."""
    return {
        "transfers": list(Transfer.objects.order_by("pk").values()),
        "entries": list(Entry.objects.order_by("pk").values()),
        "accounts": list(LedgerAccount.objects.order_by("pk").values("pk", "balance", "held")),
    }


def write_transfer(legs, *, currency=None):
    """Write a transfer and its entries straight through the ORM, bypassing services.

    ``legs`` is a list of (account, amount). Returns the transfer.
    """
    now = timezone.now()
    transfer = Transfer.objects.create(
        kind=TransferKind.ADJUSTMENT,
        currency=currency or settings.WALLET_CURRENCY,
        created_at=now,
    )
    for account, amount in legs:
        Entry.objects.create(transfer=transfer, account=account, amount=amount, created_at=now)
    return transfer


@pytest.fixture
def funding(db):
    return services.system_account(SystemAccount.FUNDING)


@pytest.fixture
def top_up(funded):
    """A top-up of 500 written by the service: a balanced transfer with two entries."""
    funded(500)
    return Transfer.objects.get(kind=TransferKind.TOP_UP)


# --- Balanced transfers (PostgreSQL) ----------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_balanced_transfer_written_by_hand_passes_the_check(citizen, funding):
    # The control for the refusals below: the check itself accepts a sound transfer.
    wallet = LedgerAccount.objects.get(user=citizen)

    transfer = write_transfer([(funding, -300), (wallet, 300)])
    check_deferred_constraints()

    assert Entry.objects.filter(transfer=transfer).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "amounts",
    [
        pytest.param((-300, 200), id="two-legs-not-summing-to-zero"),
        pytest.param((300,), id="one-leg"),
        pytest.param((), id="no-legs"),
        pytest.param((-300, 100, 100), id="three-legs-not-summing-to-zero"),
    ],
)
def test_an_unbalanced_transfer_is_refused(citizen, funding, amounts):
    # given
    wallet = LedgerAccount.objects.get(user=citizen)
    accounts = [funding, wallet, wallet]
    before = ledger_rows()

    # when / then
    with refused_by_database("unbalanced"):
        write_transfer(list(zip(accounts, amounts, strict=False)))
        check_deferred_constraints()
    assert ledger_rows() == before


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_entry_added_to_an_existing_transfer_is_refused(top_up, citizen):
    # given
    wallet = LedgerAccount.objects.get(user=citizen)
    before = ledger_rows()

    # when / then
    with refused_by_database("unbalanced"):
        Entry.objects.create(
            transfer=top_up, account=wallet, amount=1000, created_at=timezone.now()
        )
        check_deferred_constraints()
    assert ledger_rows() == before


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_transfer_mixing_currencies_is_refused(citizen, funding):
    wallet = LedgerAccount.objects.get(user=citizen)
    foreign = "EUR" if wallet.currency != "EUR" else "USD"
    before = ledger_rows()

    with refused_by_database("mixes currencies"):
        write_transfer([(funding, -300), (wallet, 300)], currency=foreign)
        check_deferred_constraints()
    assert ledger_rows() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_transfer_is_refused_at_a_real_commit():
    # given
    funding = services.system_account(SystemAccount.FUNDING)
    write_offs = services.system_account(SystemAccount.WRITE_OFFS)

    # when / then: the commit itself fails
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
        transfer = write_transfer([(funding, -300), (write_offs, 299)])
    assert not Transfer.objects.filter(pk=transfer.pk).exists()
    assert Entry.objects.count() == 0

    # and a balanced one commits
    with transaction.atomic():
        balanced = write_transfer([(funding, -300), (write_offs, 300)])
    assert Entry.objects.filter(transfer=balanced).count() == 2


# --- Append-only (PostgreSQL) -----------------------------------------------------------


def _entry_orm_update(entry):
    models.QuerySet.update(Entry.objects.filter(pk=entry.pk), amount=999)


def _entry_orm_update_no_op(entry):
    models.QuerySet.update(Entry.objects.filter(pk=entry.pk), amount=F("amount"))


def _entry_bulk_orm_update(entry):
    models.QuerySet.update(Entry.objects.all(), amount=F("amount") * 2)


def _entry_save_base(entry):
    entry.amount = 999
    models.Model.save_base(entry)


def _entry_orm_delete(entry):
    models.QuerySet.delete(Entry.objects.filter(pk=entry.pk))


def _entry_model_delete(entry):
    models.Model.delete(entry)


def _entry_raw_delete(entry):
    models.QuerySet._raw_delete(Entry.objects.filter(pk=entry.pk), using="default")


def _entry_sql_update(entry):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE wallet_entry SET amount = amount + 1 WHERE id = %s", [entry.pk])


def _entry_sql_delete(entry):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM wallet_entry WHERE id = %s", [entry.pk])


def _entry_sql_delete_all(entry):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM wallet_entry")


def _entry_upsert(entry, bulk_create=None):
    """An INSERT ... ON CONFLICT DO UPDATE that rewrites an existing entry."""
    bulk_create = bulk_create or Entry.objects.bulk_create
    changed = Entry(
        pk=entry.pk,
        transfer_id=entry.transfer_id,
        account_id=entry.account_id,
        amount=999,
        created_at=entry.created_at,
    )
    bulk_create([changed], update_conflicts=True, unique_fields=["id"], update_fields=["amount"])


def _entry_orm_upsert(entry):
    """The same upsert through the base QuerySet, past Python's guard."""
    _entry_upsert(entry, partial(models.QuerySet.bulk_create, Entry.objects.all()))


def _transfer_orm_update(entry):
    models.QuerySet.update(Transfer.objects.filter(pk=entry.transfer_id), description="edited")


def _transfer_save_base(entry):
    transfer = Transfer.objects.get(pk=entry.transfer_id)
    transfer.description = "edited"
    models.Model.save_base(transfer)


def _transfer_raw_delete(entry):
    models.QuerySet._raw_delete(Transfer.objects.filter(pk=entry.transfer_id), using="default")


def _transfer_sql_update(entry):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_transfer SET description = 'edited' WHERE id = %s", [entry.transfer_id]
        )


def _transfer_sql_delete(entry):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM wallet_transfer WHERE id = %s", [entry.transfer_id])


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    [
        _entry_orm_update,
        _entry_orm_update_no_op,
        _entry_bulk_orm_update,
        _entry_save_base,
        _entry_orm_delete,
        _entry_model_delete,
        _entry_raw_delete,
        _entry_sql_update,
        _entry_sql_delete,
        _entry_sql_delete_all,
        _entry_orm_upsert,
        _transfer_orm_update,
        _transfer_save_base,
        _transfer_raw_delete,
        _transfer_sql_update,
        _transfer_sql_delete,
    ],
    ids=lambda tamper: tamper.__name__.strip("_"),
)
def test_the_database_refuses_to_change_ledger_rows(top_up, tamper):
    # given
    entry = Entry.objects.filter(transfer=top_up).order_by("amount").last()
    before = ledger_rows()

    # when / then
    with refused_by_database("append-only"):
        tamper(entry)
    assert ledger_rows() == before


# --- Python's refusals (every database) ---------------------------------------------------


def _save_existing_entry(entry):
    entry.amount = 999
    entry.save()


def _save_existing_transfer(entry):
    transfer = entry.transfer
    transfer.description = "edited"
    transfer.save()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_save_existing_entry, id="entry.save"),
        pytest.param(lambda entry: entry.delete(), id="entry.delete"),
        pytest.param(
            lambda entry: Entry.objects.filter(pk=entry.pk).update(amount=999),
            id="entries.update",
        ),
        pytest.param(lambda entry: Entry.objects.filter(pk=entry.pk).delete(), id="entries.delete"),
        pytest.param(lambda entry: Entry.objects.all().delete(), id="all-entries.delete"),
        pytest.param(
            lambda entry: Entry.objects.bulk_update([entry], ["amount"]), id="entries.bulk_update"
        ),
        pytest.param(
            lambda entry: entry.transfer.entries.update(amount=1), id="related-entries.update"
        ),
        pytest.param(lambda entry: entry.transfer.entries.all().delete(), id="related.delete"),
        # An upsert rewrites an existing entry: on SQLite only this guard stops it.
        pytest.param(_entry_upsert, id="entries.bulk_create-upsert"),
        pytest.param(_save_existing_transfer, id="transfer.save"),
        pytest.param(lambda entry: entry.transfer.delete(), id="transfer.delete"),
        pytest.param(
            lambda entry: Transfer.objects.filter(pk=entry.transfer_id).update(description="x"),
            id="transfers.update",
        ),
        pytest.param(lambda entry: Transfer.objects.all().delete(), id="transfers.delete"),
    ],
)
def test_python_refuses_to_change_ledger_rows(top_up, tamper):
    # given
    entry = Entry.objects.filter(transfer=top_up).order_by("amount").last()
    before = ledger_rows()

    # when / then (bulk_update marks the enclosing transaction broken: give it its own)
    with pytest.raises(LedgerImmutableError), transaction.atomic():
        tamper(entry)
    assert ledger_rows() == before


# --- Check constraints (every database) ---------------------------------------------------


@pytest.fixture
def wallet_with_hold(funded):
    """A wallet with 100 in it, 40 of it held: 60 available."""
    wallet = funded(100)
    services.hold_place(account=wallet, amount=40, expires_at=timezone.now())
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.held) == (100, 40)
    return wallet


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"balance": 39}, id="balance-below-held"),
        pytest.param({"balance": -1}, id="balance-negative"),
        pytest.param({"balance": F("balance") - 61}, id="balance-minus-more-than-available"),
        pytest.param({"held": 101}, id="held-above-balance"),
        pytest.param({"held": F("held") + 61}, id="held-plus-more-than-available"),
        pytest.param({"held": -1}, id="held-negative"),
    ],
)
def test_a_wallet_cannot_go_below_zero_available(wallet_with_hold, change):
    # given
    before = ledger_rows()

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(pk=wallet_with_hold.pk).update(**change)
    assert ledger_rows() == before


@pytest.mark.django_db
def test_a_wallet_can_reach_exactly_zero_available(wallet_with_hold):
    # The control for the refusals above: the same update, one unit less, goes through.
    LedgerAccount.objects.filter(pk=wallet_with_hold.pk).update(balance=40)

    wallet_with_hold.refresh_from_db()
    assert wallet_with_hold.available == 0


@pytest.mark.django_db
def test_only_wallets_hold_money(settlement):
    before = ledger_rows()

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(pk=settlement.pk).update(balance=100, held=1)
    assert ledger_rows() == before


@pytest.mark.django_db
def test_accounts_other_than_wallets_may_go_negative(settlement, funding):
    # The funding account is negative by design; the constraint is about wallets only.
    LedgerAccount.objects.filter(pk=settlement.pk).update(balance=-500)

    assert LedgerAccount.objects.get(pk=settlement.pk).balance == -500


@pytest.mark.django_db
def test_an_entry_of_zero_is_refused(top_up, citizen):
    wallet = LedgerAccount.objects.get(user=citizen)
    before = ledger_rows()

    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(transfer=top_up, account=wallet, amount=0, created_at=timezone.now())
    assert ledger_rows() == before

"""Every write of the wallet: accounts, transfers, holds, claims.

Locking discipline (one order everywhere, so no two transactions wait on each other in a
cycle): first the hold row if the operation concerns one, then ledger accounts in
ascending primary key. Balances change only through ``F()`` updates under those locks;
the check constraints on ``LedgerAccount`` are the last line of defence.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from knox.models import AuthToken

from common.audit import history_actor
from common.bulk import row_instance, rows_insert
from wallet.errors import (
    CurrencyMismatch,
    HoldNotActive,
    InsufficientFunds,
    InvalidAmount,
    UsernameTaken,
)
from wallet.models import (
    AccountKind,
    Entry,
    Hold,
    HoldStatus,
    IdentityLevel,
    LedgerAccount,
    SignIn,
    SignInKind,
    SystemAccount,
    Transfer,
    TransferKind,
    User,
    provider_account_code,
)

logger = logging.getLogger(__name__)


# --- Accounts --------------------------------------------------------------------------


@transaction.atomic
def user_register(*, username: str, password: str, display_name: str = "") -> User:
    """Create a citizen with their wallet. The password must already be validated.

    The username is stored normalised (``User.normalize_username``); one another account
    already holds raises :class:`UsernameTaken`, even when both sign-ups passed the
    check at once and the database's unique constraint is what tells them apart."""
    users = get_user_model().objects
    try:
        with transaction.atomic():
            user = users.create_user(
                username=username, password=password, display_name=display_name
            )
    except IntegrityError:
        if users.with_username(username).exists():
            raise UsernameTaken from None
        raise
    wallet_open(user=user)
    logger.info("user registered", extra={"user_id": user.pk})
    return user


@transaction.atomic
def auth_token_create(*, user: User, client: str = "") -> str:
    """A new API token for a native client, listed among the citizen's devices (a
    ``SignIn``; ``client`` is its User-Agent). Only its digest is stored; the token itself
    is returned once. It expires ``AUTH_TOKEN_TTL_DAYS`` after now, however it is used."""
    instance, token = AuthToken.objects.create(user=user)
    SignIn.objects.create(
        user=user,
        kind=SignInKind.TOKEN,
        token_key=instance.token_key,
        client=client[: SignIn._meta.get_field("client").max_length or 200],
        created_at=instance.created,
        last_used_at=instance.created,
    )
    return token


@transaction.atomic
def auth_token_revoke(*, token: AuthToken) -> None:
    """Log a token out: it is deleted and its device ends."""
    SignIn.objects.filter(
        user_id=token.user_id, token_key=token.token_key, ended_at__isnull=True
    ).update(ended_at=timezone.now())
    token.delete()


@transaction.atomic
def staff_user_ensure(*, username: str, password: str) -> User:
    """A superuser with this password (created if missing): demo and first-run set-up."""
    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save(update_fields=["is_staff", "is_superuser", "password"])
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_identity_level_set(*, user: User, level: IdentityLevel, actor: User | None = None) -> User:
    """Record what was verified: 1 a phone number, 2 an identity document. The audit
    trail's row names ``actor`` (the member of staff who decided), or, without one, the
    signed-in user of the request, or nobody (the system)."""
    user.identity_level = IdentityLevel(level)
    with history_actor(user, actor):
        user.save(update_fields=["identity_level"])
    logger.info("identity level set", extra={"user_id": user.pk, "level": int(level)})
    return user


def user_lock_with_wallet(*, user: User) -> User:
    """Lock the account's row and its wallet (inside the caller's transaction), so no
    hold, payment or top-up lands on the wallet while the caller decides (closing the
    account). Returns the account as locked."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    list(LedgerAccount.objects.select_for_update().filter(user=locked).order_by("pk"))
    return locked


def users_create_bulk(*, users: Sequence[User], batch_size: int = 500) -> list[User]:
    """Insert many prepared users at once, in the order given, and return them with their
    ids (a seeder's residents, whose passwords are already hashed or unusable). Their
    wallets are opened separately, with ``wallets_open_bulk``."""
    return User.objects.bulk_create(users, batch_size=batch_size)


def _wallet_fields(user: User) -> dict[str, str]:
    return {
        "code": f"wallet:{user.public_id}",
        "kind": AccountKind.WALLET,
        "name": f"Wallet of {user.username}",
        "currency": settings.WALLET_CURRENCY,
    }


def wallet_open(*, user: User) -> LedgerAccount:
    """The user's wallet account, created on first use (staff made by createsuperuser
    have none until they need one)."""
    account, _ = LedgerAccount.objects.get_or_create(user=user, defaults=_wallet_fields(user))
    return account


@transaction.atomic
def wallets_open_bulk(*, users: list[User]) -> int:
    """Open wallets for many users at once (users who already have one are skipped)."""
    have = set(LedgerAccount.objects.filter(user__in=users).values_list("user_id", flat=True))
    created = LedgerAccount.objects.bulk_create(
        (LedgerAccount(user=user, **_wallet_fields(user)) for user in users if user.pk not in have),
        batch_size=1000,
    )
    return len(created)


def settlement_account_open(*, code: str, name: str) -> LedgerAccount:
    """A merchant's settlement account (the merchants app keeps the link to it)."""
    account, _ = LedgerAccount.objects.get_or_create(
        code=f"settlement:{code}",
        defaults={
            "kind": AccountKind.SETTLEMENT,
            "name": name,
            "currency": settings.WALLET_CURRENCY,
        },
    )
    return account


def settlement_account_rename(*, account_id: Any, name: str) -> None:
    """A merchant's settlement account takes the merchant's new name (the merchants app
    renames the merchant; the account row is the wallet's to write)."""
    LedgerAccount.objects.filter(pk=account_id, kind=AccountKind.SETTLEMENT).update(name=name)


def system_account(code: SystemAccount) -> LedgerAccount:
    """A system account; the migration seeds them, this re-creates one if it is missing
    (after a test flush, say)."""
    account, _ = LedgerAccount.objects.get_or_create(
        code=code.value,
        defaults={
            "kind": AccountKind.SYSTEM,
            "name": code.label,
            "currency": settings.WALLET_CURRENCY,
        },
    )
    return account


def provider_account(provider: str) -> LedgerAccount:
    """The system account mirroring the money held at a payment provider (created on
    first use)."""
    account, _ = LedgerAccount.objects.get_or_create(
        code=provider_account_code(provider),
        defaults={
            "kind": AccountKind.SYSTEM,
            "name": f"Money at the payment provider {provider}",
            "currency": settings.WALLET_CURRENCY,
        },
    )
    return account


# --- Transfers -------------------------------------------------------------------------


# Ids per query when locking many accounts (SQLite's historical limit is 999 variables).
_LOCK_CHUNK = 900
_TRANSFER_KINDS = frozenset(TransferKind.values)
# From this many transfers in one write, PostgreSQL's statistics are refreshed after it
# (see ``_transfers_write``); below it they cannot be stale enough to matter.
_ANALYZE_FROM = 1_000


def _lock_accounts(account_ids: set[int]) -> dict[int, LedgerAccount]:
    """Lock ledger accounts for update, in ascending primary key order (in chunks of ids
    for many accounts, still in that one global order).

    The lock is PostgreSQL's ``FOR NO KEY UPDATE``: writers of an account still wait for
    each other, but a foreign-key check on it (a row written elsewhere that names the
    account: a payout, a hold) does not wait for them. With ``FOR UPDATE`` it would, and a
    transaction holding one account while it names another at commit (the payouts' relay
    names the citizen's wallet) deadlocked with a payment holding that wallet and waiting
    for the first account."""
    ordered = sorted(account_ids)
    locked: dict[int, LedgerAccount] = {}
    for start in range(0, len(ordered), _LOCK_CHUNK):
        chunk = ordered[start : start + _LOCK_CHUNK]
        accounts = (
            LedgerAccount.objects.select_for_update(no_key=True).filter(pk__in=chunk).order_by("pk")
        )
        locked.update((account.pk, account) for account in accounts)
    missing = account_ids - locked.keys()
    if missing:
        raise LedgerAccount.DoesNotExist(f"No ledger account {sorted(missing)}")
    return locked


def accounts_lock(*, account_ids: set[int]) -> dict[int, LedgerAccount]:
    """Lock ledger accounts in the ledger's one order (ascending primary key), for a
    caller that must read a balance before it decides what to transfer (a payout of a
    whole settlement balance). Call it inside a transaction."""
    return _lock_accounts(account_ids)


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """One transfer as :func:`_transfers_write` writes it: one of a live payment's, or of
    a history's at a time of the caller's choosing. ``postings`` maps account id to
    signed amount (credit positive)."""

    kind: str
    postings: Mapping[int, int]
    created_at: datetime
    description: str = ""
    reference: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def _transfer_legs(transfer: TransferRecord) -> list[tuple[int, int]]:
    """A transfer's legs (account id, signed amount), in account order, once it is known
    to be one: a known kind at an aware time, two or more legs summing to zero."""
    if transfer.kind not in _TRANSFER_KINDS:
        raise ValueError(f"Unknown kind of transfer: {transfer.kind!r}.")
    if timezone.is_naive(transfer.created_at):
        raise ValueError("created_at must be an aware time.")
    legs = sorted(
        (account_id, amount) for account_id, amount in transfer.postings.items() if amount
    )
    if len(legs) < 2 or sum(amount for _, amount in legs) != 0:
        raise ValueError(f"Unbalanced or one-legged transfer: {dict(transfer.postings)}")
    return legs


def _transfers_write(
    transfers: Sequence[TransferRecord], *, locked: Mapping[int, LedgerAccount]
) -> None:
    """Write transfers over accounts the caller has locked (every account they post to):
    the one implementation of the ledger's rules, for one live payment or a history.

    Each transfer must be one (:func:`_transfer_legs`) in the deployment's currency, and
    taking them in time order (ties in the given order) from each wallet's available
    balance as ``locked`` has it, no wallet's available balance goes below zero:
    ``InsufficientFunds`` otherwise, before anything is written. Then the transfers and
    their entries are written, and each balance moves once by ``F()`` (its total), in
    the database and in ``locked``.
    """
    currency = settings.WALLET_CURRENCY
    legs_of = [_transfer_legs(transfer) for transfer in transfers]
    totals: dict[int, int] = defaultdict(int)
    for legs in legs_of:
        for account_id, amount in legs:
            totals[account_id] += amount
    if any(locked[account_id].currency != currency for account_id in totals):
        raise CurrencyMismatch()

    wallets = {pk for pk in totals if locked[pk].kind == AccountKind.WALLET}
    available = {pk: locked[pk].available for pk in wallets}
    wallet_legs = sorted(
        (transfer.created_at, index, account_id, amount)
        for index, (transfer, legs) in enumerate(zip(transfers, legs_of, strict=True))
        for account_id, amount in legs
        if account_id in wallets
    )
    for _, _, account_id, amount in wallet_legs:
        available[account_id] += amount
        if available[account_id] < 0:
            raise InsufficientFunds()

    rows_insert(Transfer, _TRANSFER_COLUMNS, (_transfer_row(t, currency) for t in transfers))
    rows_insert(
        Entry,
        ("transfer_id", "account_id", "amount", "created_at"),
        (
            (transfer.id, account_id, amount, transfer.created_at)
            for transfer, legs in zip(transfers, legs_of, strict=True)
            for account_id, amount in legs
        ),
    )
    for pk, total in sorted(totals.items()):
        # One statement per account in pk order, the order its lock was taken in (a
        # statement over many rows locks them in whatever order it finds them).
        if total:
            LedgerAccount.objects.filter(pk=pk).update(balance=F("balance") + total)
            locked[pk].balance += total
    if connection.vendor == "postgresql" and len(transfers) >= _ANALYZE_FROM:
        # The balance check (a trigger run at commit, once per entry and per transfer)
        # joins a transfer's entries to their accounts. Planned from statistics taken
        # before a bulk write, or none, it reads every account each time: quadratic.
        # Fresh statistics (this transaction's rows included) keep it to index lookups.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE wallet_entry, wallet_transfer, wallet_ledgeraccount")


_TRANSFER_COLUMNS = ("id", "kind", "currency", "description", "reference", "created_at")


def _transfer_row(transfer: TransferRecord, currency: str) -> tuple[Any, ...]:
    return (
        transfer.id,
        transfer.kind,
        currency,
        transfer.description[:255],
        transfer.reference[:255],
        transfer.created_at,
    )


def _post(transfer: TransferRecord, *, locked: Mapping[int, LedgerAccount]) -> Transfer:
    """Write one transfer over accounts the caller has locked: :func:`_transfers_write`
    applied to one. Returns it as saved."""
    _transfers_write([transfer], locked=locked)
    return row_instance(
        Transfer, _TRANSFER_COLUMNS, _transfer_row(transfer, settings.WALLET_CURRENCY)
    )


@transaction.atomic
def transfer_funds(
    *,
    source: LedgerAccount,
    destination: LedgerAccount,
    amount: int,
    kind: str,
    description: str = "",
    reference: str = "",
) -> Transfer:
    """Move ``amount`` from one account to another; a wallet source must afford it."""
    if amount <= 0:
        raise InvalidAmount("The amount must be a positive number of minor units.")
    if source.pk == destination.pk:
        raise InvalidAmount("A transfer needs two different accounts.")
    locked = _lock_accounts({source.pk, destination.pk})
    return _post(
        TransferRecord(
            kind=kind,
            postings={source.pk: -amount, destination.pk: amount},
            created_at=timezone.now(),
            description=description,
            reference=reference,
        ),
        locked=locked,
    )


def payment_create(
    *,
    user: User,
    destination: LedgerAccount,
    amount: int,
    description: str = "",
    reference: str = "",
) -> Transfer:
    """Pay a merchant (its settlement account) from the user's wallet."""
    with transaction.atomic():
        return transfer_funds(
            source=wallet_open(user=user),
            destination=destination,
            amount=amount,
            kind=TransferKind.PAYMENT,
            description=description,
            reference=reference,
        )


@transaction.atomic
def transfers_bulk_create(*, transfers: Sequence[TransferRecord]) -> int:
    """Write many balanced transfers, each at its own time, and move every cached
    balance once: history from another ledger, or the demo's two years of it.

    The rules are one payment's (:func:`_transfers_write`), applied to the whole: taking
    the transfers in time order from each wallet's current available balance, no wallet
    is ever short. Accounts are locked in pk order like every other write. Either
    everything is written or nothing is. Returns how many transfers were written.
    """
    if not transfers:
        return 0
    account_ids = {
        pk for transfer in transfers for pk, amount in transfer.postings.items() if amount
    }
    _transfers_write(transfers, locked=_lock_accounts(account_ids))
    return len(transfers)


# --- Holds -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A hold as the hold services leave it, for :func:`_holds_write`: active (placed
    now), or placed and resolved in the past (:func:`holds_bulk_record`). A captured one
    names the transfer that took its money."""

    account_id: int
    amount: int
    status: str
    created_at: datetime
    expires_at: datetime
    resolved_at: datetime | None = None
    captured_amount: int = 0
    capture_transfer_id: uuid.UUID | None = None
    reference: str = ""
    description: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)


# The name histories know it by: what they record has been resolved.
ResolvedHoldRecord = HoldRecord

_HOLD_ENDS = frozenset({HoldStatus.CAPTURED, HoldStatus.RELEASED, HoldStatus.EXPIRED})
_HOLD_COLUMNS = (
    "id",
    "account_id",
    "amount",
    "captured_amount",
    "status",
    "reference",
    "description",
    "expires_at",
    "created_at",
    "resolved_at",
    "capture_transfer_id",
)


def _hold_check(hold: HoldRecord) -> None:
    """What a hold is in each state: a positive amount; active and nothing more, or
    ended (captured, released or expired) at some moment, and captured exactly when it
    names its capture transfer, for 1 to its amount (nothing captured otherwise)."""
    if hold.amount <= 0:
        raise InvalidAmount("A hold must be a positive number of minor units.")
    if hold.status == HoldStatus.ACTIVE:
        if hold.resolved_at is not None or hold.captured_amount or hold.capture_transfer_id:
            raise ValueError("An active hold is neither resolved nor captured.")
        return
    if hold.status not in _HOLD_ENDS:
        raise ValueError(f"Unknown hold status {hold.status!r}.")
    if hold.resolved_at is None:
        raise ValueError("A resolved hold has the moment it was resolved.")
    captured = hold.status == HoldStatus.CAPTURED
    if captured != (hold.capture_transfer_id is not None):
        raise ValueError("A captured hold, and only a captured one, names its transfer.")
    if not captured and hold.captured_amount:
        raise ValueError("Only a captured hold has a captured amount.")
    if captured and not 0 < hold.captured_amount <= hold.amount:
        raise InvalidAmount(f"A capture must be between 1 and {hold.amount} minor units.")


def _holds_write(holds: Sequence[HoldRecord], *, locked: Mapping[int, LedgerAccount]) -> None:
    """Write holds on wallets the caller has locked: the one implementation of what a
    hold row may be (:func:`_hold_check`), for one placed now or a history of them.

    Holds are placed on wallets only. An active hold sets its amount aside: the wallet's
    available balance must cover every active hold written here (``InsufficientFunds``,
    with nothing written), and ``held`` grows by ``F()``. A resolved hold set its money
    aside and gave it back (a capture is the transfer it names): it moves nothing.
    """
    setting_aside: dict[int, int] = defaultdict(int)
    for hold in holds:
        _hold_check(hold)
        if locked[hold.account_id].kind != AccountKind.WALLET:
            raise InvalidAmount("Holds are placed on wallets only.")
        if hold.status == HoldStatus.ACTIVE:
            setting_aside[hold.account_id] += hold.amount
    if any(locked[pk].available < amount for pk, amount in setting_aside.items()):
        raise InsufficientFunds()
    rows_insert(Hold, _HOLD_COLUMNS, (_hold_row(hold) for hold in holds))
    for pk, amount in sorted(setting_aside.items()):
        LedgerAccount.objects.filter(pk=pk).update(held=F("held") + amount)
        locked[pk].held += amount


def _hold_row(hold: HoldRecord) -> tuple[Any, ...]:
    return (
        hold.id,
        hold.account_id,
        hold.amount,
        hold.captured_amount,
        hold.status,
        hold.reference[:255],
        hold.description[:255],
        hold.expires_at,
        hold.created_at,
        hold.resolved_at,
        hold.capture_transfer_id,
    )


def _hold_end(
    hold: Hold,
    *,
    status: str,
    resolved_at: datetime,
    captured_amount: int = 0,
    capture_transfer_id: uuid.UUID | None = None,
) -> HoldRecord:
    """Where a hold locked active (:func:`_lock_active_hold`) ends, checked as every hold
    is (:func:`_hold_check`) before anything moves; :func:`_hold_resolve` then saves it."""
    ended = HoldRecord(
        account_id=hold.account_id,
        amount=hold.amount,
        status=status,
        created_at=hold.created_at,
        expires_at=hold.expires_at,
        resolved_at=resolved_at,
        captured_amount=captured_amount,
        capture_transfer_id=capture_transfer_id,
        id=hold.pk,
    )
    _hold_check(ended)
    return ended


def _unhold(*, hold: Hold, account: LedgerAccount) -> None:
    """Give an active hold's money back to the wallet's available balance (its locked
    ``account``); the one place ``held`` shrinks."""
    LedgerAccount.objects.filter(pk=account.pk).update(held=F("held") - hold.amount)
    account.held -= hold.amount


def _hold_resolve(hold: Hold, ended: HoldRecord, *, capture: Transfer | None = None) -> None:
    """Save a hold as it ended (:func:`_hold_end`); its money was given back first."""
    hold.status = ended.status
    hold.captured_amount = ended.captured_amount
    hold.resolved_at = ended.resolved_at
    if capture is not None:
        hold.capture_transfer = capture
    hold.capture_transfer_id = ended.capture_transfer_id
    hold.save(update_fields=["status", "captured_amount", "capture_transfer", "resolved_at"])


def _lock_active_hold(hold_id: Any, *, capturable: bool = False) -> Hold:
    """Lock a hold that is still active. A hold to capture must also be unexpired: once
    its expiry passes the money is the citizen's again, whether or not the sweeper has
    run yet."""
    hold = Hold.objects.select_for_update().get(pk=hold_id)
    if hold.status != HoldStatus.ACTIVE:
        raise HoldNotActive()
    if capturable and hold.expires_at <= timezone.now():
        raise HoldNotActive("This hold has expired; its money is available again.")
    return hold


@transaction.atomic
def hold_place(
    *,
    account: LedgerAccount,
    amount: int,
    expires_at: datetime,
    reference: str = "",
    description: str = "",
) -> Hold:
    """Set ``amount`` aside on a wallet until it is captured, released or expires."""
    locked = _lock_accounts({account.pk})
    hold = HoldRecord(
        account_id=account.pk,
        amount=amount,
        status=HoldStatus.ACTIVE,
        created_at=timezone.now(),
        expires_at=expires_at,
        reference=reference,
        description=description,
    )
    _holds_write([hold], locked=locked)
    return row_instance(Hold, _HOLD_COLUMNS, _hold_row(hold))


@transaction.atomic
def hold_capture(
    *, hold_id: Any, amount: int, destination: LedgerAccount, description: str = ""
) -> Hold:
    """Take ``amount`` (at most the hold) to ``destination``; the rest is released."""
    hold = _lock_active_hold(hold_id, capturable=True)
    now = timezone.now()
    capture = TransferRecord(
        kind=TransferKind.HOLD_CAPTURE,
        postings={hold.account_id: -amount, destination.pk: amount},
        created_at=now,
        description=description or hold.description,
        reference=f"hold:{hold.pk}",
    )
    ended = _hold_end(
        hold,
        status=HoldStatus.CAPTURED,
        resolved_at=now,
        captured_amount=amount,
        capture_transfer_id=capture.id,
    )
    if destination.pk == hold.account_id:
        raise InvalidAmount("A hold is captured to another account than its own wallet.")
    locked = _lock_accounts({hold.account_id, destination.pk})
    _unhold(hold=hold, account=locked[hold.account_id])
    _hold_resolve(hold, ended, capture=_post(capture, locked=locked))
    return hold


@transaction.atomic
def hold_release(*, hold_id: Any) -> Hold:
    """Give the held money back to the wallet's available balance."""
    hold = _lock_active_hold(hold_id)
    ended = _hold_end(hold, status=HoldStatus.RELEASED, resolved_at=timezone.now())
    account = _lock_accounts({hold.account_id})[hold.account_id]
    _unhold(hold=hold, account=account)
    _hold_resolve(hold, ended)
    return hold


@transaction.atomic
def hold_expire(*, hold_id: Any, now: datetime | None = None) -> bool:
    """Expire one hold if it is still active and past its expiry. Returns whether it did.

    Safe to run from several sweepers at once: a hold that another transaction has
    locked (a second sweeper, or a capture or release in progress) is skipped rather
    than waited for; whoever holds the lock resolves it, and if that transaction rolls
    back the next sweep expires it. A hold resolves exactly once either way.
    """
    now = now or timezone.now()
    hold = Hold.objects.select_for_update(skip_locked=True).filter(pk=hold_id).first()
    if hold is None or hold.status != HoldStatus.ACTIVE or hold.expires_at > now:
        return False
    ended = _hold_end(hold, status=HoldStatus.EXPIRED, resolved_at=now)
    account = _lock_accounts({hold.account_id})[hold.account_id]
    _unhold(hold=hold, account=account)
    _hold_resolve(hold, ended)
    return True


@transaction.atomic
def hold_extend(*, hold_id: Any, expires_at: datetime) -> Hold:
    """Move an active, unexpired hold's end to ``expires_at`` (later or earlier; never
    into the past). The caller states why the hold may last longer (a disputed claim's
    hold waits for staff, up to a bound its service sets); the wallet only keeps a hold
    that has already ended or expired from coming back (``hold_not_active``)."""
    hold = _lock_active_hold(hold_id, capturable=True)
    if expires_at <= timezone.now():
        raise InvalidAmount("A hold's new end is in the future.")
    hold.expires_at = expires_at
    hold.save(update_fields=["expires_at"])
    return hold


def hold_lock_live(*, hold_id: Any) -> Hold | None:
    """The hold, locked until the caller's transaction ends (so the expiry sweeper passes
    it by), if it can still be charged: active and unexpired. A hold past its expiry is
    expired now (the sweeper may not have run yet), its money is the wallet's again, and
    ``None`` is returned, as for a hold already captured, released or expired.

    Call it inside a transaction: outside one there is no lock to keep."""
    hold = Hold.objects.select_for_update().get(pk=hold_id)
    if hold.status != HoldStatus.ACTIVE:
        return None
    if hold.expires_at <= timezone.now():
        hold_expire(hold_id=hold.pk)
        return None
    return hold


def holds_expire_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Expire the active holds past their expiry, each in its own short transaction."""
    now = now or timezone.now()
    due = list(
        Hold.objects.filter(status=HoldStatus.ACTIVE, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    expired = sum(hold_expire(hold_id=hold_id, now=now) for hold_id in due)
    if expired:
        logger.info("holds expired", extra={"count": expired})
    return expired


@transaction.atomic
def holds_bulk_record(*, holds: Sequence[HoldRecord]) -> int:
    """Write holds that were placed and resolved in the past (the demo's history,
    imports); returns how many were written.

    Each is checked as the hold services leave one (:func:`_holds_write`). Only resolved
    holds: an active one sets money aside, which only :func:`hold_place` does, now. And
    as their times come from the caller rather than the clock, each must have been
    resolved after it was placed.
    """
    if not holds:
        return 0
    for hold in holds:
        if hold.status == HoldStatus.ACTIVE:
            raise ValueError("Only resolved holds are recorded in bulk, not active ones.")
        if hold.resolved_at is not None and hold.resolved_at < hold.created_at:
            raise ValueError("A hold is resolved after it was placed.")
    _holds_write(holds, locked=_lock_accounts({hold.account_id for hold in holds}))
    return len(holds)


# --- Claims ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimCharge:
    """What charging a claim collected: from the hold, from the balance, and what is left."""

    from_hold: int
    from_balance: int
    unpaid: int
    transfer: Transfer | None

    @property
    def collected(self) -> int:
        return self.from_hold + self.from_balance


@transaction.atomic
def claim_charge(
    *,
    account: LedgerAccount,
    destination: LedgerAccount,
    amount: int,
    hold_id: Any = None,
    description: str = "",
    reference: str = "",
) -> ClaimCharge:
    """Charge a claim to a wallet: from the hold first, then from the available balance;
    whatever cannot be paid is returned as ``unpaid`` for the caller to record.

    A hold given here is resolved: captured for what the claim takes, the rest released.
    One transfer carries everything collected.
    """
    if amount <= 0:
        raise InvalidAmount("A claim must be a positive number of minor units.")
    if destination.pk == account.pk:
        raise InvalidAmount("A claim is paid to another account than the wallet it charges.")
    hold = _lock_active_hold(hold_id, capturable=True) if hold_id is not None else None
    if hold is not None and hold.account_id != account.pk:
        raise InvalidAmount("The hold belongs to another wallet.")
    locked = _lock_accounts({account.pk, destination.pk})
    wallet = locked[account.pk]

    from_hold = min(amount, hold.amount) if hold else 0
    if hold is not None:
        _unhold(hold=hold, account=wallet)
    # The hold's money is part of the balance too: what the balance can add on top of
    # what the hold covers is the available balance (hold released) minus that part.
    from_balance = min(amount - from_hold, max(wallet.available - from_hold, 0))
    collected = from_hold + from_balance

    now = timezone.now()
    charge = TransferRecord(
        kind=TransferKind.CLAIM,
        postings={wallet.pk: -collected, destination.pk: collected},
        created_at=now,
        description=description,
        reference=reference,
    )
    transfer = _post(charge, locked=locked) if collected else None
    if hold is not None:
        ended = _hold_end(
            hold,
            status=HoldStatus.CAPTURED if from_hold else HoldStatus.RELEASED,
            resolved_at=now,
            captured_amount=from_hold,
            capture_transfer_id=charge.id if from_hold else None,
        )
        _hold_resolve(hold, ended, capture=transfer if from_hold else None)
    return ClaimCharge(
        from_hold=from_hold,
        from_balance=from_balance,
        unpaid=amount - collected,
        transfer=transfer,
    )

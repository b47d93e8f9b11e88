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
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from knox.models import AuthToken

from common.bulk import rows_insert
from wallet.errors import CurrencyMismatch, HoldNotActive, InsufficientFunds, InvalidAmount
from wallet.models import (
    AccountKind,
    Entry,
    Hold,
    HoldStatus,
    IdentityLevel,
    LedgerAccount,
    SystemAccount,
    Transfer,
    TransferKind,
    User,
)

logger = logging.getLogger(__name__)


# --- Accounts --------------------------------------------------------------------------


@transaction.atomic
def user_register(*, username: str, password: str, display_name: str = "") -> User:
    """Create a citizen with their wallet. The password must already be validated."""
    user = get_user_model().objects.create_user(
        username=username, password=password, display_name=display_name
    )
    wallet_open(user=user)
    logger.info("user registered", extra={"user_id": user.pk})
    return user


def auth_token_create(*, user: User) -> str:
    """A new API token for a native client. Only its digest is stored; the token itself
    is returned once."""
    _, token = AuthToken.objects.create(user=user)
    return token


def auth_token_revoke(*, token: AuthToken) -> None:
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
def user_identity_level_set(*, user: User, level: IdentityLevel) -> User:
    """Record what staff verified: 1 a phone number, 2 an identity document."""
    user.identity_level = IdentityLevel(level)
    user.save(update_fields=["identity_level"])
    logger.info("identity level set", extra={"user_id": user.pk, "level": int(level)})
    return user


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


# --- Transfers -------------------------------------------------------------------------


# Ids per query when locking many accounts (SQLite's historical limit is 999 variables).
_LOCK_CHUNK = 900


def _lock_accounts(account_ids: set[int]) -> dict[int, LedgerAccount]:
    """Lock ledger accounts for update, in ascending primary key order (in chunks of ids
    for many accounts, still in that one global order)."""
    ordered = sorted(account_ids)
    locked: dict[int, LedgerAccount] = {}
    for start in range(0, len(ordered), _LOCK_CHUNK):
        chunk = ordered[start : start + _LOCK_CHUNK]
        accounts = LedgerAccount.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
        locked.update((account.pk, account) for account in accounts)
    missing = account_ids - locked.keys()
    if missing:
        raise LedgerAccount.DoesNotExist(f"No ledger account {sorted(missing)}")
    return locked


def _post(
    *,
    kind: str,
    postings: Mapping[int, int],
    locked: Mapping[int, LedgerAccount],
    description: str = "",
    reference: str = "",
) -> Transfer:
    """Write one balanced transfer over accounts the caller has locked.

    ``postings`` maps account id to its signed amount (credit positive). Checks that
    debited wallets can afford it, then writes the transfer, its entries and the cached
    balances (``F()`` in pk order).
    """
    postings = {account_id: amount for account_id, amount in postings.items() if amount}
    if len(postings) < 2 or sum(postings.values()) != 0:
        raise ValueError(f"Unbalanced or one-legged transfer: {postings}")
    currency = settings.WALLET_CURRENCY
    for account_id, amount in postings.items():
        account = locked[account_id]
        if account.currency != currency:
            raise CurrencyMismatch()
        if account.kind == AccountKind.WALLET and amount < 0 and account.available < -amount:
            raise InsufficientFunds()

    now = timezone.now()
    transfer = Transfer.objects.create(
        kind=kind,
        currency=currency,
        description=description[:255],
        reference=reference[:255],
        created_at=now,
    )
    Entry.objects.bulk_create(
        Entry(transfer=transfer, account_id=account_id, amount=amount, created_at=now)
        for account_id, amount in sorted(postings.items())
    )
    for account_id, amount in sorted(postings.items()):
        LedgerAccount.objects.filter(pk=account_id).update(balance=F("balance") + amount)
        locked[account_id].balance += amount
    return transfer


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
        kind=kind,
        postings={source.pk: -amount, destination.pk: amount},
        locked=locked,
        description=description,
        reference=reference,
    )


def top_up_create(
    *, user: User, amount: int, description: str = "Top-up", reference: str = ""
) -> Transfer:
    """Add money to a wallet from the (simulated) funding source.

    Not yet safe to call from a payment provider's webhook: providers deliver a webhook
    more than once, and ``Transfer.reference`` is not unique, so a repeated delivery would
    credit the wallet again. That first needs a unique provider reference (a constraint on
    the provider's charge id, with a repeat answered by the transfer already made).
    """
    if amount <= 0 or amount > settings.WALLET_MAX_TOP_UP:
        raise InvalidAmount(
            f"A top-up must be between 1 and {settings.WALLET_MAX_TOP_UP} minor units."
        )
    with transaction.atomic():
        wallet = wallet_open(user=user)
        return transfer_funds(
            source=system_account(SystemAccount.FUNDING),
            destination=wallet,
            amount=amount,
            kind=TransferKind.TOP_UP,
            description=description,
            reference=reference,
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


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """One transfer for :func:`transfers_bulk_create`: what ``_post`` writes, at a time of
    the caller's choosing. ``postings`` maps account id to signed amount (credit
    positive)."""

    kind: str
    postings: Mapping[int, int]
    created_at: datetime
    description: str = ""
    reference: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@transaction.atomic
def transfers_bulk_create(*, transfers: Sequence[TransferRecord]) -> int:
    """Write many balanced transfers, each at its own time, and move every cached
    balance once: history from another ledger, or the demo's two years of it.

    Each transfer is checked as ``_post`` checks one (two or more legs summing to zero,
    on known accounts in the deployment's currency), and the whole as one: taking the
    transfers in time order (ties in the given order) from each wallet's current
    available balance, no wallet's available balance ever goes below zero. Accounts are
    locked in pk order like every other write; each balance then moves by one ``F()``
    update of its total. Either everything is written or nothing is. Returns how many
    transfers were written.
    """
    if not transfers:
        return 0
    currency = settings.WALLET_CURRENCY
    kinds = frozenset(TransferKind.values)
    totals: dict[int, int] = defaultdict(int)
    for transfer in transfers:
        if transfer.kind not in kinds:
            raise ValueError(f"Unknown kind of transfer: {transfer.kind!r}.")
        if timezone.is_naive(transfer.created_at):
            raise ValueError("created_at must be an aware time.")
        legs = [amount for amount in transfer.postings.values() if amount]
        if len(legs) < 2 or sum(legs) != 0:
            raise ValueError(f"Unbalanced or one-legged transfer: {dict(transfer.postings)}")
        for account_id, amount in transfer.postings.items():
            totals[account_id] += amount
    locked = _lock_accounts(set(totals))
    if any(account.currency != currency for account in locked.values()):
        raise CurrencyMismatch()

    wallets = {pk for pk, account in locked.items() if account.kind == AccountKind.WALLET}
    wallet_legs = sorted(
        (transfer.created_at, index, account_id, amount)
        for index, transfer in enumerate(transfers)
        for account_id, amount in transfer.postings.items()
        if amount and account_id in wallets
    )
    available = {pk: locked[pk].available for pk in wallets}
    for _, _, account_id, amount in wallet_legs:
        available[account_id] += amount
        if available[account_id] < 0:
            raise InsufficientFunds()

    rows_insert(
        Transfer,
        ("id", "kind", "currency", "description", "reference", "created_at"),
        (
            (t.id, t.kind, currency, t.description[:255], t.reference[:255], t.created_at)
            for t in transfers
        ),
    )
    rows_insert(
        Entry,
        ("transfer_id", "account_id", "amount", "created_at"),
        (
            (transfer.id, account_id, amount, transfer.created_at)
            for transfer in transfers
            for account_id, amount in sorted(transfer.postings.items())
            if amount
        ),
    )
    moved = sorted((pk, total) for pk, total in totals.items() if total)
    for start in range(0, len(moved), _LOCK_CHUNK):
        # One statement per chunk of accounts, each balance still moved by F() under the
        # locks taken above: balance = balance + its total.
        chunk = moved[start : start + _LOCK_CHUNK]
        LedgerAccount.objects.filter(pk__in=[pk for pk, _ in chunk]).update(
            balance=F("balance")
            + Case(*(When(pk=pk, then=Value(total)) for pk, total in chunk), default=Value(0))
        )
    if connection.vendor == "postgresql":
        # The balance check (a trigger run at commit, once per entry and per transfer)
        # joins a transfer's entries to their accounts. Planned from statistics taken
        # before a bulk write, or none, it reads every account each time: quadratic.
        # Fresh statistics (this transaction's rows included) keep it to index lookups.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE wallet_entry, wallet_transfer, wallet_ledgeraccount")
    return len(transfers)


# --- Holds -----------------------------------------------------------------------------


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


def _unhold(*, hold: Hold, account: LedgerAccount) -> None:
    LedgerAccount.objects.filter(pk=account.pk).update(held=F("held") - hold.amount)
    account.held -= hold.amount


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
    if amount <= 0:
        raise InvalidAmount("A hold must be a positive number of minor units.")
    locked = _lock_accounts({account.pk})[account.pk]
    if locked.kind != AccountKind.WALLET:
        raise InvalidAmount("Holds are placed on wallets only.")
    if locked.available < amount:
        raise InsufficientFunds()
    hold = Hold.objects.create(
        account=locked,
        amount=amount,
        expires_at=expires_at,
        reference=reference[:255],
        description=description[:255],
    )
    LedgerAccount.objects.filter(pk=locked.pk).update(held=F("held") + amount)
    return hold


@transaction.atomic
def hold_capture(
    *, hold_id: Any, amount: int, destination: LedgerAccount, description: str = ""
) -> Hold:
    """Take ``amount`` (at most the hold) to ``destination``; the rest is released."""
    hold = _lock_active_hold(hold_id, capturable=True)
    if amount <= 0 or amount > hold.amount:
        raise InvalidAmount(f"A capture must be between 1 and {hold.amount} minor units.")
    if destination.pk == hold.account_id:
        raise InvalidAmount("A hold is captured to another account than its own wallet.")
    locked = _lock_accounts({hold.account_id, destination.pk})
    _unhold(hold=hold, account=locked[hold.account_id])
    transfer = _post(
        kind=TransferKind.HOLD_CAPTURE,
        postings={hold.account_id: -amount, destination.pk: amount},
        locked=locked,
        description=description or hold.description,
        reference=f"hold:{hold.pk}",
    )
    hold.status = HoldStatus.CAPTURED
    hold.captured_amount = amount
    hold.capture_transfer = transfer
    hold.resolved_at = timezone.now()
    hold.save(update_fields=["status", "captured_amount", "capture_transfer", "resolved_at"])
    return hold


@transaction.atomic
def hold_release(*, hold_id: Any) -> Hold:
    """Give the held money back to the wallet's available balance."""
    hold = _lock_active_hold(hold_id)
    account = _lock_accounts({hold.account_id})[hold.account_id]
    _unhold(hold=hold, account=account)
    hold.status = HoldStatus.RELEASED
    hold.resolved_at = timezone.now()
    hold.save(update_fields=["status", "resolved_at"])
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
    account = _lock_accounts({hold.account_id})[hold.account_id]
    _unhold(hold=hold, account=account)
    hold.status = HoldStatus.EXPIRED
    hold.resolved_at = now
    hold.save(update_fields=["status", "resolved_at"])
    return True


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


@dataclass(frozen=True, slots=True)
class ResolvedHoldRecord:
    """A hold that was placed and resolved in the past, for :func:`holds_bulk_record`.
    A captured one names the transfer that took its money."""

    account_id: int
    amount: int
    status: str
    created_at: datetime
    expires_at: datetime
    resolved_at: datetime
    captured_amount: int = 0
    capture_transfer_id: uuid.UUID | None = None
    reference: str = ""
    description: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@transaction.atomic
def holds_bulk_record(*, holds: Sequence[ResolvedHoldRecord]) -> int:
    """Write holds that were placed and resolved in the past (the demo's history,
    imports); returns how many were written.

    Only resolved holds: an active hold sets money aside (``held``), which only
    :func:`hold_place` may do, under the wallet's lock. A resolved hold moved no money of
    its own (a capture is the transfer it names), so writing one changes no balance. Each
    is checked as the hold services leave one: on a wallet, a positive amount, resolved
    after it was placed, and captured exactly when it names its capture transfer.
    """
    if not holds:
        return 0
    resolved = {HoldStatus.CAPTURED, HoldStatus.RELEASED, HoldStatus.EXPIRED}
    for hold in holds:
        if hold.status not in resolved:
            raise ValueError(f"Only resolved holds are recorded in bulk, not {hold.status!r}.")
        if hold.amount <= 0:
            raise InvalidAmount("A hold must be a positive number of minor units.")
        if hold.resolved_at < hold.created_at:
            raise ValueError("A hold is resolved after it was placed.")
        captured = hold.status == HoldStatus.CAPTURED
        if captured != (hold.capture_transfer_id is not None) or not (
            0 < hold.captured_amount <= hold.amount if captured else hold.captured_amount == 0
        ):
            raise ValueError("A captured hold names its transfer and takes 1 to its amount.")
    account_ids = sorted({hold.account_id for hold in holds})
    kinds: dict[int, str] = {}
    for start in range(0, len(account_ids), _LOCK_CHUNK):
        chunk = account_ids[start : start + _LOCK_CHUNK]
        kinds.update(LedgerAccount.objects.filter(pk__in=chunk).values_list("pk", "kind"))
    if any(kinds.get(pk) != AccountKind.WALLET for pk in account_ids):
        raise InvalidAmount("Holds are placed on wallets only.")
    return rows_insert(
        Hold,
        (
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
        ),
        (
            (
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
            for hold in holds
        ),
    )


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

    transfer = None
    if collected:
        transfer = _post(
            kind=TransferKind.CLAIM,
            postings={wallet.pk: -collected, destination.pk: collected},
            locked=locked,
            description=description,
            reference=reference,
        )
    if hold is not None:
        hold.resolved_at = timezone.now()
        if from_hold:
            hold.status = HoldStatus.CAPTURED
            hold.captured_amount = from_hold
            hold.capture_transfer = transfer
        else:
            hold.status = HoldStatus.RELEASED
        hold.save(update_fields=["status", "captured_amount", "capture_transfer", "resolved_at"])
    return ClaimCharge(
        from_hold=from_hold,
        from_balance=from_balance,
        unpaid=amount - collected,
        transfer=transfer,
    )

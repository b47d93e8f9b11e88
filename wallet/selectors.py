"""Reads of the wallet. Views and other apps read through these, never ad-hoc queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from wallet.models import Entry, LedgerAccount, User


@dataclass(frozen=True)
class WalletSummary:
    currency: str
    balance: int
    held: int

    @property
    def available(self) -> int:
        return self.balance - self.held


def wallet_summary(*, user: User) -> WalletSummary:
    """Balance, held and available; a user without a wallet yet has all zeros."""
    row = LedgerAccount.objects.filter(user=user).values("currency", "balance", "held").first()
    if row is None:
        return WalletSummary(currency=settings.WALLET_CURRENCY, balance=0, held=0)
    return WalletSummary(**row)


def wallet_entries(*, user: User) -> QuerySet[Entry]:
    """The wallet's side of every transfer, newest first, with the transfer joined.
    (The API narrows it with ``wallet.api.filters.TransactionFilter``.)"""
    return (
        Entry.objects.filter(account__user=user)
        .select_related("transfer")
        .order_by("-created_at", "-pk")
    )

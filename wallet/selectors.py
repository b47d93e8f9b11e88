"""Reads of the wallet. Views and other apps read through these, never ad-hoc queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from wallet.models import Entry, LedgerAccount, User
from wallet.payments import limits
from wallet.payments import selectors as payments_selectors


@dataclass(frozen=True)
class WalletSummary:
    """The wallet as the citizen sees it, with what the limits leave them now."""

    currency: str
    balance: int
    held: int
    top_up_limit: int = 0
    withdrawal_limit: int = 0
    payout_destination: str | None = None

    @property
    def available(self) -> int:
        return self.balance - self.held


def wallet_summary(*, user: User) -> WalletSummary:
    """Balance, held and available (all zeros for a user without a wallet yet), the most
    that may be topped up and withdrawn now, and where a withdrawal goes."""
    row = LedgerAccount.objects.filter(user=user).values("currency", "balance", "held").first()
    row = row or {"currency": settings.WALLET_CURRENCY, "balance": 0, "held": 0}
    room = limits.headroom(user=user, balance=row["balance"])
    return WalletSummary(
        **row,
        top_up_limit=min(room.top_up, settings.WALLET_MAX_TOP_UP),
        withdrawal_limit=min(room.withdrawal, max(row["balance"] - row["held"], 0)),
        payout_destination=payments_selectors.payout_destination(user=user),
    )


def wallet_entries(*, user: User) -> QuerySet[Entry]:
    """The wallet's side of every transfer, newest first, with the transfer joined.
    (The API narrows it with ``wallet.api.filters.TransactionFilter``.)"""
    return (
        Entry.objects.filter(account__user=user)
        .select_related("transfer")
        .order_by("-created_at", "-pk")
    )

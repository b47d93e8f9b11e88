"""Reads of top-ups and payouts, for the API, the admin and other apps."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from common.domain import NotFound
from wallet.models import Entry, LedgerAccount, Payout, TopUp, TopUpStatus, User


def top_ups_of(*, user: User) -> QuerySet[TopUp]:
    """The citizen's top-ups, newest first, with the transfer that credited each and its
    entry on the citizen's wallet (``transfer.wallet_entries``): a page in three queries."""
    wallet_entries = Prefetch(
        "transfer__entries",
        queryset=Entry.objects.filter(account__user=user).select_related("transfer"),
        to_attr="wallet_entries",
    )
    return (
        TopUp.objects.filter(user=user)
        .select_related("transfer")
        .prefetch_related(wallet_entries)
        .order_by("-created_at")
    )


def top_up_of(*, user: User, top_up_id: Any) -> TopUp:
    """The citizen's own top-up; ``NotFound`` for another's or an unknown id."""
    top_up = top_ups_of(user=user).filter(pk=top_up_id).first()
    if top_up is None:
        raise NotFound()
    return top_up


def withdrawals_of(*, user: User) -> QuerySet[Payout]:
    """The citizen's withdrawals (payouts from their wallet), newest first."""
    return Payout.objects.filter(account__user=user).order_by("-created_at")


def payouts_of_account(*, account: LedgerAccount) -> QuerySet[Payout]:
    """The payouts of one account (a merchant's settlement), newest first."""
    return Payout.objects.filter(account=account).order_by("-created_at")


def payout_destination(*, user: User) -> str | None:
    """Where a citizen's withdrawals go: the payment source of their latest succeeded
    top-up (money goes back where it came from), or None before the first."""
    label = (
        TopUp.objects.filter(user=user, status=TopUpStatus.SUCCEEDED)
        .exclude(payer_label="")
        .order_by("-resolved_at")
        .values_list("payer_label", flat=True)
        .first()
    )
    return label or None


def top_up_by_reference(*, provider: str, reference: str) -> TopUp | None:
    """The top-up a provider knows by ``reference`` (its checkout), if any."""
    return TopUp.objects.filter(provider=provider, provider_reference=reference).first()

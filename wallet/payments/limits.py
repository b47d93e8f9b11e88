"""Limits on money in and out, by identity level (``PAYMENTS_LIMITS``).

A day and a month are the server's calendar day and month (``TIME_ZONE``), the ones a
citizen's bills are due on. Top-ups count while pending too, so that many checkouts opened
at once cannot pass a limit together; failed and expired ones do not count (nor a pending
one past its time, which can no longer be confirmed). Callers check under the citizen's
row lock, so two requests of one citizen are checked one after the other.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from common.domain import FieldError, Refused
from common.money import format_money
from wallet.models import Payout, PayoutStatus, TopUp, TopUpStatus, User


class Period(enum.StrEnum):
    DAY = "day"
    MONTH = "month"
    BALANCE = "balance"


class LimitExceeded(Refused):
    """A limit refuses the amount; ``limit`` (minor units) and ``period`` say which."""

    def __init__(self, *, limit: int, period: Period, detail: str | None = None) -> None:
        self.limit = limit
        self.period = period
        super().__init__(
            detail or self.default_detail,
            errors=[FieldError("amount", detail or self.default_detail, self.code)],
        )

    @property
    def extras(self) -> Mapping[str, object]:
        return {"limit": self.limit, "period": self.period.value}


class TopUpLimit(LimitExceeded):
    code = "top_up_limit"
    title = "Top-up limit reached"
    default_detail = "This top-up would go over a limit of your verification level."


class WithdrawalLimit(LimitExceeded):
    code = "withdrawal_limit"
    title = "Withdrawal limit reached"
    default_detail = "This withdrawal would go over your daily withdrawal limit."


@dataclass(frozen=True, slots=True)
class Limits:
    top_up_daily: int
    top_up_monthly: int
    balance_max: int
    withdrawal_daily: int


def limits_for(user: User) -> Limits:
    """The limits of the user's identity level."""
    configured = settings.PAYMENTS_LIMITS
    return Limits(**configured[int(user.identity_level)])


def _day_start(now: datetime) -> datetime:
    today = timezone.localtime(now).date()
    return timezone.make_aware(datetime.combine(today, time.min))


def _month_start(now: datetime) -> datetime:
    first = timezone.localtime(now).date().replace(day=1)
    return timezone.make_aware(datetime.combine(first, time.min))


def _counted_top_ups(
    user: User, *, day: datetime, month: datetime, now: datetime
) -> tuple[int, int, int]:
    """Today's, this month's and the pending top-ups' totals (succeeded ones, and pending
    ones still payable: one past its time can no longer be confirmed, swept yet or not),
    in one statement."""
    payable = Q(status=TopUpStatus.PENDING, expires_at__gt=now)
    counted = Q(status=TopUpStatus.SUCCEEDED) | payable
    sums = TopUp.objects.filter(
        Q(user=user) & (Q(created_at__gte=min(day, month)) | payable)
    ).aggregate(
        day=Sum("amount", filter=counted & Q(created_at__gte=day), default=0),
        month=Sum("amount", filter=counted & Q(created_at__gte=month), default=0),
        pending=Sum("amount", filter=payable, default=0),
    )
    return sums["day"], sums["month"], sums["pending"]


def _withdrawn_since(user: User, since: datetime) -> int:
    return Payout.objects.filter(
        account__user=user,
        created_at__gte=since,
        status__in=(PayoutStatus.PENDING, PayoutStatus.PAID),
    ).aggregate(total=Sum("amount", default=0))["total"]


@dataclass(frozen=True, slots=True)
class Headroom:
    """How much more a citizen may top up and withdraw now, and the limit that binds."""

    top_up: int
    top_up_limit: int
    top_up_period: Period
    withdrawal: int
    withdrawal_limit: int


def headroom(*, user: User, balance: int, now: datetime | None = None) -> Headroom:
    """What the limits leave the citizen now, given the wallet's ``balance``."""
    now = now or timezone.now()
    limits = limits_for(user)
    day, month, pending = _counted_top_ups(
        user, day=_day_start(now), month=_month_start(now), now=now
    )
    left = {
        Period.DAY: (limits.top_up_daily - day, limits.top_up_daily),
        Period.MONTH: (limits.top_up_monthly - month, limits.top_up_monthly),
        Period.BALANCE: (limits.balance_max - balance - pending, limits.balance_max),
    }
    period = min(left, key=lambda p: left[p][0])
    withdrawal_left = limits.withdrawal_daily - _withdrawn_since(user, _day_start(now))
    return Headroom(
        top_up=max(left[period][0], 0),
        top_up_limit=left[period][1],
        top_up_period=period,
        withdrawal=max(withdrawal_left, 0),
        withdrawal_limit=limits.withdrawal_daily,
    )


# How each period's limit reads in a refusal: the limit's name, and when what is left is.
_TOP_UP_LIMIT_NAMES = {
    Period.DAY: ("daily top-up limit", " today"),
    Period.MONTH: ("monthly top-up limit", " this month"),
    Period.BALANCE: ("wallet's balance ceiling (pending top-ups included)", ""),
}


def top_up_check(*, user: User, amount: int, balance: int, now: datetime) -> None:
    """Refuse a top-up that a limit does not leave room for (``TopUpLimit``), saying which
    limit and how much is left."""
    room = headroom(user=user, balance=balance, now=now)
    if amount > room.top_up:
        currency = settings.WALLET_CURRENCY
        name, when = _TOP_UP_LIMIT_NAMES[room.top_up_period]
        raise TopUpLimit(
            limit=room.top_up_limit,
            period=room.top_up_period,
            detail=(
                f"A top-up of {format_money(amount, currency)} would go over your {name} "
                f"of {format_money(room.top_up_limit, currency)}: you can top up "
                f"{format_money(room.top_up, currency)} more{when}."
            ),
        )


def withdrawal_check(*, user: User, amount: int, now: datetime) -> None:
    """Refuse a withdrawal over what is left of today's limit (``WithdrawalLimit``), saying
    how much is left."""
    room = headroom(user=user, balance=0, now=now)
    if amount > room.withdrawal:
        currency = settings.WALLET_CURRENCY
        raise WithdrawalLimit(
            limit=room.withdrawal_limit,
            period=Period.DAY,
            detail=(
                f"A withdrawal of {format_money(amount, currency)} would go over your daily "
                f"withdrawal limit of {format_money(room.withdrawal_limit, currency)}: you "
                f"can withdraw {format_money(room.withdrawal, currency)} more today."
            ),
        )

"""Bills a biller issues to a citizen under a billing consent.

The table kept the name it had when the model lived in ``merchants``
(``Meta.db_table``): moving the model between apps moved no data.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.money import format_money
from merchants.models import Consent, Merchant


class BillStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"


def due_end(due_date: date) -> datetime:
    """The end of a bill's due date in the deployment's time zone (``TIME_ZONE``), i.e.
    the first moment of the next day there: unpaid from then, the bill is past due."""
    return datetime.combine(
        due_date + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )


def overdue_at(due_date: date) -> datetime:
    """The instant a bill due on ``due_date`` becomes overdue: ``BILL_OVERDUE_AFTER_DAYS``
    (30) local days after the end of its due date, as credit bureaus report lateness. The
    one statement of the overdue rule: paid before this instant, a bill was paid on
    time; unpaid at it, it is recorded overdue and paid after it, paid late
    (:func:`is_overdue`, :func:`paid_on_time`, and :func:`overdue_on` for a whole local
    date). Between the due date and this instant it is only past due (:func:`is_past_due`)."""
    return datetime.combine(
        due_date + timedelta(days=1 + settings.BILL_OVERDUE_AFTER_DAYS),
        time.min,
        tzinfo=timezone.get_current_timezone(),
    )


def paid_on_time(*, paid_at: datetime, due_date: date) -> bool:
    """Paid before the bill became overdue (:func:`overdue_at`)."""
    return paid_at < overdue_at(due_date)


def is_overdue(*, due_date: date, at: datetime) -> bool:
    """Whether a bill due on ``due_date`` is overdue (reported) at the instant ``at``."""
    return at >= overdue_at(due_date)


def is_past_due(*, due_date: date, at: datetime) -> bool:
    """Whether a bill due on ``due_date`` is past its due date at the instant ``at``."""
    return at >= due_end(due_date)


def overdue_due_before(today: date) -> date:
    """Bills due before this date are overdue on the local date ``today``: the overdue
    instant of a bill due on ``d`` is the first moment of ``d + 1 + N`` (:func:`overdue_at`),
    which is at or before ``today``'s first moment exactly when ``d < today - N``."""
    return today - timedelta(days=settings.BILL_OVERDUE_AFTER_DAYS)


def overdue_on(today: date) -> Q:
    """The open bills overdue on the local date ``today`` (:func:`overdue_due_before`)."""
    return Q(status=BillStatus.OPEN, due_date__lt=overdue_due_before(today))


class Bill(models.Model):
    """A bill a biller issued to a citizen under a billing consent: paid from the wallet
    to the biller's settlement account. Paid before its overdue instant (30 days after
    its due date, :func:`overdue_at`) it is a kept commitment; left unpaid then, a daily
    task records it overdue once (``overdue_recorded_at``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="bills")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bills"
    )
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="bills")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=500)
    due_date = models.DateField()
    status = models.CharField(max_length=8, choices=BillStatus.choices, default=BillStatus.OPEN)
    issued_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(
        "wallet.Transfer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bill",
        help_text="The ledger transfer that paid the bill.",
    )
    overdue_recorded_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text='When the "bill overdue" record was written (once, the day after the due date).',
    )

    class Meta:
        db_table = "merchants_bill"
        ordering = ("-issued_at",)
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bill_amount_positive"),
            models.CheckConstraint(
                condition=(
                    Q(status=BillStatus.OPEN, paid_at__isnull=True, payment__isnull=True)
                    | Q(status=BillStatus.PAID, paid_at__isnull=False, payment__isnull=False)
                ),
                name="bill_paid_with_payment",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("citizen", "-issued_at"), name="bill_citizen_issued"),
            models.Index(fields=("merchant", "-issued_at"), name="bill_merchant_issued"),
            models.Index(
                fields=("due_date",),
                condition=Q(status=BillStatus.OPEN, overdue_recorded_at__isnull=True),
                name="bill_open_not_overdue_due",
            ),
        ]

    def __str__(self) -> str:
        amount = format_money(self.amount, self.currency)
        return f"Bill {amount} by {self.merchant} due {self.due_date}"

    @property
    def overdue_at(self) -> datetime:
        """When it becomes overdue if unpaid (:func:`overdue_at`)."""
        return overdue_at(self.due_date)

    @property
    def past_due(self) -> bool:
        """Open after its due date (not yet overdue, perhaps)."""
        return self.status == BillStatus.OPEN and is_past_due(
            due_date=self.due_date, at=timezone.now()
        )

"""Bills a biller issues to a citizen under a billing consent.

The table kept the name it had when the model lived in ``merchants``
(``Meta.db_table``): moving the model between apps moved no data.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from merchants.models import Consent, Merchant


class BillStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"


class Bill(models.Model):
    """A bill a biller issued to a citizen under a billing consent: paid from the wallet
    to the biller's settlement account. Paid by its due date it is a kept commitment;
    left unpaid past it, a daily task records it overdue once (``overdue_recorded_at``)."""

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
        return f"Bill {self.amount} {self.currency} by {self.merchant} due {self.due_date}"

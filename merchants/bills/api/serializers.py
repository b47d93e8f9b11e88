"""Input and output serializers of the bills API (separate, uniquely named).

Input serializers list exactly the fields a caller may write; anything else in a body
is ignored, so amounts, statuses and owners are always the server's.
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from common.fields import MinorUnitsField
from merchants.api.serializers import MerchantSummaryOutputSerializer
from merchants.bills.models import Bill, BillStatus, is_overdue, paid_on_time


class BillInputSerializer(serializers.Serializer):
    consent_id = serializers.UUIDField(help_text="A live consent of scope `billing`.")
    amount = MinorUnitsField()
    due_date = serializers.DateField(
        help_text="At least 7 days after today (`due_date_too_soon`). Unpaid 30 days after "
        "it (`BILL_OVERDUE_AFTER_DAYS`), the bill is reported overdue."
    )
    description = serializers.CharField(
        max_length=500, help_text="What the bill is for, as the citizen will read it."
    )


class _BillOutputFields(serializers.Serializer):
    """What biller and citizen both read of a bill."""

    id = serializers.UUIDField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    description = serializers.CharField()
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=BillStatus.choices)
    issued_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    is_overdue = serializers.SerializerMethodField(
        help_text="Reported overdue: unpaid at `overdue_at`."
    )
    past_due = serializers.BooleanField(
        read_only=True,
        help_text="Unpaid after its due date (not reported until `overdue_at`).",
    )
    paid_on_time = serializers.SerializerMethodField(
        help_text="Whether it was paid by its due date; null while unpaid."
    )
    overdue_at = serializers.DateTimeField(
        read_only=True,
        help_text="The instant it is reported overdue if unpaid: 30 days "
        "(`BILL_OVERDUE_AFTER_DAYS`) after the end of `due_date` in the server's time zone. "
        "Paid before it, a bill is paid on time; `is_overdue` is `now >= overdue_at` for an "
        "open bill.",
    )

    def get_is_overdue(self, bill: Bill) -> bool:
        return bill.status == BillStatus.OPEN and is_overdue(
            due_date=bill.due_date, at=timezone.now()
        )

    def get_paid_on_time(self, bill: Bill) -> bool | None:
        if bill.paid_at is None:
            return None
        return paid_on_time(paid_at=bill.paid_at, due_date=bill.due_date)


class BillOutputSerializer(_BillOutputFields):
    consent_id = serializers.UUIDField()


class CitizenBillOutputSerializer(_BillOutputFields):
    biller = MerchantSummaryOutputSerializer(source="merchant")

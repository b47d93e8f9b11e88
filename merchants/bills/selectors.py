"""Reads of bills: a biller's are filtered by the biller, a citizen's by the citizen
(another party's bill is simply not found)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet

from merchants.bills.models import Bill, overdue_on
from merchants.errors import NotFound
from merchants.models import Merchant
from wallet.models import User


def bills_for_citizen(*, citizen: User, status: str | None = None) -> QuerySet[Bill]:
    rows = Bill.objects.select_related("merchant").filter(citizen=citizen)
    return rows.filter(status=status) if status else rows


def bills_for_merchant(*, merchant: Merchant) -> QuerySet[Bill]:
    return Bill.objects.filter(merchant=merchant)


def bill_for_update(*, citizen: User, bill_id: Any) -> Bill:
    """The citizen's bill, locked (404 for anyone else's)."""
    bill = (
        Bill.objects.select_for_update(of=("self",))
        .select_related("merchant__settlement")
        .filter(pk=bill_id, citizen=citizen)
        .first()
    )
    if bill is None:
        raise NotFound("No such bill.")
    return bill


def bills_overdue_unrecorded(*, today: date) -> list[Any]:
    """Ids of the bills unpaid after their due date whose overdue record is not written
    yet, oldest due first (a partial index covers exactly these rows)."""
    return list(
        Bill.objects.filter(overdue_on(today), overdue_recorded_at__isnull=True)
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )

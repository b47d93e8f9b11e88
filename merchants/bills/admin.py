"""Admin for bills: records of the biller and the citizen, read-only here."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from common.admin import ReadOnlyAdminMixin
from merchants.admin import money_column
from merchants.bills.models import Bill, overdue_on
from scoring.admin import StaffReadAdminMixin
from scoring.facts import EVENT_FACTS, EventKinds


class OverdueFilter(admin.SimpleListFilter):
    """Bills overdue today (``BILL_OVERDUE_AFTER_DAYS`` past their due date, unpaid)."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Overdue (unpaid 30 days past due)"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Bill]) -> QuerySet[Bill]:
        overdue = overdue_on(timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


# What a bill tells whoever opens it: how the citizen pays their bills.
_BILL_FACTS = tuple(
    dict.fromkeys(
        EVENT_FACTS[EventKinds.BILL_PAID_ON_TIME]
        + EVENT_FACTS[EventKinds.BILL_PAID_LATE]
        + EVENT_FACTS[EventKinds.BILL_OVERDUE]
    )
)


@admin.register(Bill)
class BillAdmin(StaffReadAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Bills are the biller's and the citizen's: staff read them (support, disputes). The
    list shows no amount; opening a bill asks why and is logged in the citizen's access
    log."""

    fields = (
        "id",
        "merchant",
        "citizen",
        "consent",
        "description",
        "billed",
        "due_date",
        "status",
        "issued_at",
        "paid_at",
        "payment",
        "overdue_recorded_at",
    )
    readonly_fields = fields
    list_display = ("issued_at", "merchant", "citizen", "due_date", "status", "paid_at")
    list_filter = ("status", OverdueFilter)
    search_fields = ("citizen__username", "merchant__name", "description")
    list_select_related = ("merchant", "citizen")
    date_hierarchy = "issued_at"

    staff_read_unfilterable = ("amount",)

    billed = money_column("amount", "Amount")

    def staff_read_facts(self, obj: Bill) -> Sequence[str]:
        return _BILL_FACTS

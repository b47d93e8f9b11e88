"""Query filters of the bills API (the merchant's list is strict:
``merchants.api.filters``)."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from merchants.api.filters import MerchantFilterSet
from merchants.bills.models import Bill, BillStatus, overdue_on


class BillFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BillStatus.choices)

    class Meta:
        model = Bill
        fields = ("status",)


class MerchantBillFilter(MerchantFilterSet):
    status = django_filters.ChoiceFilter(choices=BillStatus.choices)
    overdue = django_filters.ChoiceFilter(
        choices=(("true", "true"), ("false", "false")),
        method="filter_overdue",
        help_text="`true`: open bills reported overdue (unpaid 30 days after the due date); "
        "`false`: the others.",
    )
    consent_id = django_filters.UUIDFilter(field_name="consent_id", help_text="Under this consent.")
    due_from = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", help_text="Due on or after this date."
    )
    due_until = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", help_text="Due on or before this date."
    )

    ranges = (("due_from", "due_until"),)

    class Meta:
        model = Bill
        fields = ("status", "overdue", "consent_id", "due_from", "due_until")

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        overdue = overdue_on(timezone.localdate())
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)

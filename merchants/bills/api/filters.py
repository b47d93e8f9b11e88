"""Query filters of the merchants API."""

import django_filters

from merchants.bills.models import Bill, BillStatus


class BillFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BillStatus.choices)

    class Meta:
        model = Bill
        fields = ("status",)

"""Query filters of the wallet API."""

import django_filters

from wallet.models import Entry, TransferKind


class TransactionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(field_name="transfer__kind", choices=TransferKind.choices)
    since = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Inclusive, ISO 8601."
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Exclusive, ISO 8601."
    )

    class Meta:
        model = Entry
        fields = ("kind", "since", "until")

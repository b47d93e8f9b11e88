"""Query filters of the wallet API."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from wallet.models import Entry, TransferKind


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, turned into UTC before any query sees it.

    Any offset ISO 8601 allows is accepted (PostgreSQL itself refuses those beyond
    ±15:59), and an instant that falls outside the years 1 to 9999 in UTC is refused
    with 400 instead of overflowing in the database adapter.
    """

    default_error_messages = {
        **IsoDateTimeField.default_error_messages,
        "out_of_range": "Give an instant between the years 1 and 9999 in UTC.",
    }

    def to_python(self, value: Any) -> datetime | None:
        instant = super().to_python(value)
        if instant is None:
            return None
        try:
            return instant.astimezone(UTC)
        except OverflowError as error:
            raise ValidationError(
                self.error_messages["out_of_range"], code="out_of_range"
            ) from error


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class TransactionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(field_name="transfer__kind", choices=TransferKind.choices)
    since = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Inclusive, ISO 8601."
    )
    until = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Exclusive, ISO 8601."
    )

    class Meta:
        model = Entry
        fields = ("kind", "since", "until")

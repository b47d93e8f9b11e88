"""Filters of the merchants' lists, strict: a booking system that sends a filter with a
typo, or a value that is not one, gets 400 with each parameter named, never the whole
list as if it had asked for it.

- :class:`StrictFilterBackend` refuses a query parameter that is neither one of the
  list's filters nor its pagination's (``unknown_filter``), beside the filters' own
  errors;
- :class:`MerchantFilterSet` checks its ``ranges``: a ``…_from`` after its ``…_until``
  is refused on the ``…_until`` (``invalid_range``);
- :class:`LocalDateFromFilter` / :class:`LocalDateUntilFilter` filter an instant by
  local days (the deployment's ``TIME_ZONE``), both ends inclusive, as dates are given
  everywhere else in the API.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ErrorDetail, ValidationError

from merchants.models import Consent, ConsentScope
from merchants.selectors import ConsentStatus, consent_status_q


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class LocalDateFromFilter(django_filters.DateFilter):
    """An instant on or after the start of the given local day."""

    def filter(self, qs: QuerySet[Any], value: date | None) -> QuerySet[Any]:
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": _local_start(value)})


class LocalDateUntilFilter(django_filters.DateFilter):
    """An instant before the end of the given local day (the day included)."""

    def filter(self, qs: QuerySet[Any], value: date | None) -> QuerySet[Any]:
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__lt": _local_start(value + timedelta(days=1))})


class MerchantFilterSet(django_filters.FilterSet):
    """A merchant list's filters; ``ranges`` lists its (from, until) pairs."""

    ranges: ClassVar[tuple[tuple[str, str], ...]] = ()

    def is_valid(self) -> bool:
        valid = super().is_valid()
        cleaned = getattr(self.form, "cleaned_data", {})
        for low, high in self.ranges:
            start, end = cleaned.get(low), cleaned.get(high)
            if start is not None and end is not None and start > end:
                self.form.add_error(
                    high,
                    DjangoValidationError(
                        f"On or after {low} ({start.isoformat()}).", code="invalid_range"
                    ),
                )
                valid = False
        return valid


class StrictFilterBackend(DjangoFilterBackend):
    """``DjangoFilterBackend`` that also refuses unknown query parameters (400, each
    named, with the list's filters in the message), so a misspelt filter is never
    silently ignored."""

    def filter_queryset(self, request: HttpRequest, queryset: QuerySet[Any], view: Any) -> Any:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        errors: dict[str, list[ErrorDetail]] = {}
        if not filterset.is_valid():
            for name, problems in filterset.form.errors.as_data().items():
                errors[name] = [
                    ErrorDetail(problem.message % (problem.params or ()), code=problem.code)
                    for problem in problems
                ]
        allowed = set(filterset.filters) | _pagination_parameters(view)
        known = ", ".join(sorted(filterset.filters))
        for name in sorted(set(request.GET) - allowed):
            errors[name] = [
                ErrorDetail(
                    f"Not a filter of this list; its filters are: {known}.", code="unknown_filter"
                )
            ]
        if errors:
            raise ValidationError(errors)
        return filterset.qs


def _pagination_parameters(view: Any) -> set[str]:
    paginator = getattr(view, "paginator", None)
    names = (
        getattr(paginator, "page_query_param", None),
        getattr(paginator, "page_size_query_param", None),
    )
    return {name for name in names if name}


class MerchantConsentFilter(MerchantFilterSet):
    scope = django_filters.ChoiceFilter(choices=ConsentScope.choices)
    status = django_filters.ChoiceFilter(
        choices=ConsentStatus.choices,
        method="filter_status",
        help_text="`active` (neither revoked nor expired), `revoked` or `expired`.",
    )

    class Meta:
        model = Consent
        fields = ("scope", "status")

    def filter_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(consent_status_q(value))

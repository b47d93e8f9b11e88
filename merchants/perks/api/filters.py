"""Query filters of the perks API's merchant lists (strict: ``merchants.api.filters``)."""

from __future__ import annotations

import django_filters

from merchants.api.filters import MerchantFilterSet
from merchants.perks.models import Booking, BookingStatus


class MerchantBookingFilter(MerchantFilterSet):
    reference = django_filters.CharFilter(
        max_length=100, help_text="Your own booking reference, exactly as booked."
    )
    status = django_filters.ChoiceFilter(choices=BookingStatus.choices)
    check_in_from = django_filters.DateFilter(
        field_name="check_in", lookup_expr="gte", help_text="Check-in on or after this date."
    )
    check_in_until = django_filters.DateFilter(
        field_name="check_in",
        lookup_expr="lte",
        help_text="Check-in on or before this date (included).",
    )

    ranges = (("check_in_from", "check_in_until"),)

    class Meta:
        model = Booking
        fields = ("reference", "status", "check_in_from", "check_in_until")

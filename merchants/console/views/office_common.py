"""What the manager's and billing clerk's views share: the member, and paging.

The pages of one kind of merchant (bookings and claims for hotels and rentals, bills for
billers) open for the others too, empty: the navigation does not offer them, and the
access matrix stays one of roles."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from merchants.models import MerchantMember

PAGE_SIZE = 25


def member_of(request: HttpRequest) -> MerchantMember:
    member: MerchantMember = request.member  # type: ignore[attr-defined]
    return member


def page_of(request: HttpRequest, rows: Any) -> Page:
    """One page of ``rows`` (``?page=``; a bad number is the first or the last page)."""
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The query string without ``page``: the pager's links keep the filters."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()

"""What the manager's and billing clerk's views share: the merchant's category gate and
paging."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest

from merchants.console.selectors.office import STAY_CATEGORIES
from merchants.models import MerchantCategory, MerchantMember

PAGE_SIZE = 25


def member_of(request: HttpRequest) -> MerchantMember:
    member: MerchantMember = request.member  # type: ignore[attr-defined]
    return member


def stays_only(request: HttpRequest) -> MerchantMember:
    """The member, if their merchant takes stays (hotels, rentals); a page that does not
    exist for a biller is a 404."""
    member = member_of(request)
    if member.merchant.category not in STAY_CATEGORIES:
        raise Http404("A page of hotels and rentals.")
    return member


def billers_only(request: HttpRequest) -> MerchantMember:
    member = member_of(request)
    if member.merchant.category != MerchantCategory.BILLER:
        raise Http404("A page of billers.")
    return member


def page_of(request: HttpRequest, rows: Any) -> Page:
    """One page of ``rows`` (``?page=``; a bad number is the first or the last page)."""
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The query string without ``page``: the pager's links keep the filters."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()

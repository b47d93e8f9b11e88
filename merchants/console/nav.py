"""The console's navigation: the pages a member's role and merchant category open."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from merchants.console.access import BILLING, DESK, MANAGE
from merchants.models import MerchantCategory, MerchantMember

STAYS = frozenset({MerchantCategory.HOTEL, MerchantCategory.RENTAL})
BILLS = frozenset({MerchantCategory.BILLER})
EVERY = STAYS | BILLS


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    roles: frozenset[str]
    categories: frozenset[str]


NAV: tuple[NavItem, ...] = (
    NavItem("console:desk", _("Front desk"), DESK, STAYS),
    NavItem("console:bookings", _("Bookings"), MANAGE, STAYS),
    NavItem("console:claims", _("Claims"), MANAGE, STAYS),
    NavItem("console:bills", _("Bills"), BILLING, BILLS),
    NavItem("console:disputes", _("Disputes"), MANAGE, EVERY),
    NavItem("console:report", _("Report"), MANAGE, EVERY),
    NavItem("console:team", _("Team"), MANAGE, EVERY),
    NavItem("console:keys", _("API keys"), MANAGE, EVERY),
    NavItem("console:webhooks", _("Webhooks"), MANAGE, EVERY),
    NavItem("console:activity", _("Activity"), MANAGE, EVERY),
)


def nav_for(member: MerchantMember) -> list[tuple[str, str | Promise, str]]:
    """(url, label, url_name) of each page the member may open."""
    items = []
    for item in NAV:
        if member.role not in item.roles or member.merchant.category not in item.categories:
            continue
        try:
            items.append((reverse(item.url_name), item.label, item.url_name))
        except NoReverseMatch:  # a page not built (yet) is not offered
            continue
    return items

"""Template tags and filters of every console page: the navigation, money in the page's
language (Babel, through ``common.money``) and states in words (``merchants.console.labels``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from merchants.console import labels
from merchants.console.nav import nav_for

register = template.Library()


@register.inclusion_tag("console/_nav.html", takes_context=True)
def console_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    member = getattr(request, "member", None)
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    return {"items": nav_for(member) if member else [], "current": current}


@register.filter
def money(amount: int | None, currency: str = "") -> str:
    """Minor units as read in the page's language (``labels.money``)."""
    return labels.money(amount, currency)


def _words(table: dict[str, Any]) -> Any:
    def words(value: str) -> str:
        return labels.label(table, value or "")

    return words


# Each state in the page's language, one filter per table: ``{{ claim.status|claim_status }}``.
WORD_FILTERS = {
    "role_label": labels.ROLE,
    "delivery_label": labels.DELIVERY_STATUS,
    "booking_status": labels.BOOKING_STATUS,
    "booking_outcome": labels.BOOKING_OUTCOME,
    "cancel_reason": labels.CANCEL_REASON,
    "claim_status": labels.CLAIM_STATUS,
    "claim_status_help": labels.CLAIM_STATUS_HELP,
    "dispute_status": labels.DISPUTE_STATUS,
    "event_kind": labels.EVENT_KIND,
    "bill_status": labels.BILL_STATUS,
}
for _name, _table in WORD_FILTERS.items():
    register.filter(_name, _words(_table))


@register.filter
def booking_url(booking_id: object) -> str:
    """The desk's page of a booking (``console:booking``), or "" while it does not exist."""
    try:
        return reverse("console:booking", args=[booking_id])
    except NoReverseMatch:
        return ""

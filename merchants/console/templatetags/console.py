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


@register.filter
def role_label(role: str) -> str:
    """A member's role in the page's language: ``{{ member.role|role_label }}``."""
    return labels.label(labels.ROLE, role)


@register.filter
def delivery_label(status: str) -> str:
    """A webhook delivery's status in the page's language."""
    return labels.label(labels.DELIVERY_STATUS, status)


@register.filter
def booking_status(value: str) -> str:
    return labels.label(labels.BOOKING_STATUS, value)


@register.filter
def booking_outcome(value: str) -> str:
    return labels.label(labels.BOOKING_OUTCOME, value) if value else ""


@register.filter
def cancel_reason(value: str) -> str:
    return labels.label(labels.CANCEL_REASON, value) if value else ""


@register.filter
def claim_status(value: str) -> str:
    return labels.label(labels.CLAIM_STATUS, value)


@register.filter
def claim_status_help(value: str) -> str:
    return labels.label(labels.CLAIM_STATUS_HELP, value)


@register.filter
def dispute_status(value: str) -> str:
    return labels.label(labels.DISPUTE_STATUS, value)


@register.filter
def event_kind(value: str) -> str:
    return labels.label(labels.EVENT_KIND, value)


@register.filter
def bill_status(value: str) -> str:
    return labels.label(labels.BILL_STATUS, value)


@register.filter
def booking_url(booking_id: object) -> str:
    """The desk's page of a booking (``console:booking``), or "" while it does not exist."""
    try:
        return reverse("console:booking", args=[booking_id])
    except NoReverseMatch:
        return ""

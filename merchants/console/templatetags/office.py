"""Template filters of the manager's and billing clerk's pages: money in the page's
language (Babel, through ``common.money``) and states in words."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from common.money import format_money
from merchants.console import office_labels

register = template.Library()


@register.filter
def money(amount: int | None, currency: str = "") -> str:
    """Minor units as read in the page's language: 123456 → "1,234.56 CNY" in English,
    "1.234,56 CNY" in Spanish."""
    if amount is None:
        return ""
    locale = translation.to_locale(translation.get_language() or "en")
    return format_money(int(amount), currency or settings.WALLET_CURRENCY, locale)


@register.filter
def booking_status(value: str) -> str:
    return office_labels.label(office_labels.BOOKING_STATUS, value)


@register.filter
def booking_outcome(value: str) -> str:
    return office_labels.label(office_labels.BOOKING_OUTCOME, value) if value else ""


@register.filter
def claim_status(value: str) -> str:
    return office_labels.label(office_labels.CLAIM_STATUS, value)


@register.filter
def claim_status_help(value: str) -> str:
    return office_labels.label(office_labels.CLAIM_STATUS_HELP, value)


@register.filter
def dispute_status(value: str) -> str:
    return office_labels.label(office_labels.DISPUTE_STATUS, value)


@register.filter
def event_kind(value: str) -> str:
    return office_labels.label(office_labels.EVENT_KIND, value)


@register.filter
def bill_status(value: str) -> str:
    return office_labels.label(office_labels.BILL_STATUS, value)


@register.filter
def booking_url(booking_id: object) -> str:
    """The desk's page of a booking (``console:booking``), or "" while it does not exist."""
    try:
        return reverse("console:booking", args=[booking_id])
    except NoReverseMatch:
        return ""

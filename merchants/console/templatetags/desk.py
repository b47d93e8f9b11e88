"""Template filters of the front desk's pages."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _

from common.money import format_money

register = template.Library()


@register.filter
def desk_money(amount: int | None, currency: str) -> str:
    """Minor units as the member reads them, in the page's language: 12345, "CNY" →
    "123.45 CNY" (en), "123,45 CNY" (es)."""
    if amount is None:
        return ""
    return format_money(int(amount), currency, to_locale(get_language() or "en"))


_BOOKING_STATUS = {
    "confirmed": _("Confirmed"),
    "completed": _("Completed"),
    "hold_failed": _("Deposit not held"),
    "cancelled": _("Cancelled"),
}
_OUTCOME = {
    "ok": _("Without a problem"),
    "no_show": _("No-show"),
    "damage": _("Damage claimed"),
}
_CLAIM_STATUS = {
    "awaiting_guest": _("Awaiting the guest's answer"),
    "paid": _("Paid"),
    "unpaid": _("Unpaid"),
    "disputed": _("Disputed: staff decide"),
    "upheld": _("Dispute upheld: nothing owed"),
    "rejected": _("Dispute rejected: charged"),
    "cancelled": _("Cancelled and refunded"),
}
_CANCEL_REASON = {
    "consent_revoked": _("The guest withdrew their consent before check-in."),
    "merchant": _("You cancelled it before check-in."),
}


@register.filter
def booking_status(value: str) -> str:
    return str(_BOOKING_STATUS.get(value, value))


@register.filter
def booking_outcome(value: str) -> str:
    return str(_OUTCOME.get(value, value))


@register.filter
def claim_status(value: str) -> str:
    return str(_CLAIM_STATUS.get(value, value))


@register.filter
def cancel_reason(value: str) -> str:
    return str(_CANCEL_REASON.get(value, value))

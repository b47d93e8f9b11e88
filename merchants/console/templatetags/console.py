"""Template tags of the console's pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from merchants.console.nav import nav_for

register = template.Library()


@register.inclusion_tag("console/_nav.html", takes_context=True)
def console_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    member = getattr(request, "member", None)
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    return {"items": nav_for(member) if member else [], "current": current}


ROLE_LABELS = {
    "owner": _("Owner"),
    "manager": _("Manager"),
    "front_desk": _("Front desk"),
    "billing_clerk": _("Billing clerk"),
}
DELIVERY_LABELS = {
    "pending": _("pending"),
    "succeeded": _("delivered"),
    "failed": _("failed"),
}


@register.filter
def role_label(role: str) -> str:
    """A member's role in the page's language: ``{{ member.role|role_label }}``."""
    return str(ROLE_LABELS.get(role, role))


@register.filter
def delivery_label(status: str) -> str:
    """A webhook delivery's status in the page's language."""
    return str(DELIVERY_LABELS.get(status, status))

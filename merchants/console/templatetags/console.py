"""Template tags of the console's pages."""

from __future__ import annotations

from typing import Any

from django import template

from merchants.console.nav import nav_for

register = template.Library()


@register.inclusion_tag("console/_nav.html", takes_context=True)
def console_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    member = getattr(request, "member", None)
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    return {"items": nav_for(member) if member else [], "current": current}

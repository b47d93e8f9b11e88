"""Template tags of governance's admin pages."""

from typing import Any

from django import template

from governance.notices import notices_open

register = template.Library()


@register.inclusion_tag("admin/governance/_notices.html", takes_context=True)
def staff_notices(context: Any) -> dict[str, Any]:
    """The open notices, for a signed-in member of staff (none on the login page)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return {"notices": []}
    return {
        "notices": notices_open(),
        "may_read": user.has_perm("governance.view_analysisrun"),
    }

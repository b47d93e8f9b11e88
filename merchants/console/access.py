"""Who may open a console page: a signed-in member of a merchant, in a role the page
allows, past the second factor when the role needs one. Every console view is wrapped
in :func:`console_view`; it sets ``request.member`` and never lets a member reach
another merchant's data (views look objects up through ``request.member.merchant``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from merchants.models import ROLES_WITH_SECOND_FACTOR, MemberRole, MerchantMember

OWNER = MemberRole.OWNER
MANAGER = MemberRole.MANAGER
FRONT_DESK = MemberRole.FRONT_DESK
BILLING_CLERK = MemberRole.BILLING_CLERK

# Who may do what (the access matrix the tests walk).
MANAGE = frozenset({OWNER, MANAGER})
DESK = frozenset({OWNER, MANAGER, FRONT_DESK})
BILLING = frozenset({OWNER, MANAGER, BILLING_CLERK})
ANY_ROLE = frozenset(MemberRole.values)


def active_member(user: Any) -> MerchantMember | None:
    """The user's membership (at most one), with its merchant; None if not a member or
    the merchant is inactive."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        MerchantMember.objects.select_related("merchant")
        .filter(user=user, removed_at__isnull=True, merchant__is_active=True)
        .first()
    )


def second_factor_missing(request: HttpRequest, member: MerchantMember) -> bool:
    """Whether this session still has to pass the second factor the member's role needs."""
    if not settings.CONSOLE_OTP_REQUIRED or member.role not in ROLES_WITH_SECOND_FACTOR:
        return False
    is_verified = getattr(request.user, "is_verified", None)
    return not (is_verified is not None and is_verified())


def console_view(
    roles: frozenset[str] = ANY_ROLE,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a console view: sign-in, membership, role and second factor, in that order.
    A member in another role gets a 403 page (the access matrix); an object of another
    merchant is the view's 404."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("console:login"))
            member = active_member(request.user)
            if member is None:
                return render(request, "console/not_member.html", status=403)
            if second_factor_missing(request, member):
                return redirect(f"{reverse('console:otp')}?next={request.get_full_path()}")
            if member.role not in roles:
                return render(request, "console/forbidden.html", {"member": member}, status=403)
            request.member = member  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapped.console_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorate

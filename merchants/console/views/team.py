"""The team (members and invitations), the invitation link, and the activity log."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from common.domain import DomainError
from merchants.console import members
from merchants.console.access import MANAGE, active_member, console_view
from merchants.console.account_forms import AccountForm
from merchants.console.people_forms import InviteForm, RoleForm
from merchants.console.selectors.integration import actions_of
from merchants.errors import NotFound
from merchants.models import MerchantMember
from wallet import accounts

# What the team page says for each refusal of the members' services.
REFUSALS = {
    members.LastOwner.code: gettext_lazy(
        "A merchant keeps at least one owner: add another owner first."
    ),
    members.RoleNotManageable.code: gettext_lazy(
        "Owners manage everyone; managers manage the front desk and billing clerks."
    ),
    members.RoleInvalid.code: gettext_lazy("This role does not exist for your kind of business."),
    members.AlreadyMember.code: gettext_lazy(
        "This account already works for a business; one at a time."
    ),
    members.InviteInvalid.code: gettext_lazy(
        "This invitation link cannot be used: it expired, was used or was withdrawn. "
        "Ask for a new one."
    ),
}


def refusal(error: DomainError) -> str:
    return str(REFUSALS.get(error.code, error.detail))


def _team_context(member: MerchantMember) -> dict[str, object]:
    assignable = members.roles_assignable(by=member)
    rows = []
    for other in members.members_of(merchant=member.merchant):
        manageable = other.pk != member.pk and members.role_manageable(by=member, role=other.role)
        rows.append(
            {
                "member": other,
                "manageable": manageable,
                "role_form": RoleForm(roles=assignable, initial={"role": other.role})
                if manageable
                else None,
            }
        )
    invites = [
        {"invite": invite, "manageable": members.role_manageable(by=member, role=invite.role)}
        for invite in members.invites_open_of(merchant=member.merchant)
    ]
    return {"rows": rows, "invites": invites, "assignable": assignable}


@console_view(MANAGE)
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest) -> HttpResponse:
    member: MerchantMember = request.member  # type: ignore[attr-defined]
    assignable = members.roles_assignable(by=member)
    invite_form = InviteForm(roles=assignable)
    context: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "invite":
                invite_form = InviteForm(request.POST, roles=assignable)
                if invite_form.is_valid():
                    invite, token = members.invite_create(
                        merchant=member.merchant,
                        role=invite_form.cleaned_data["role"],
                        note=invite_form.cleaned_data["note"],
                        by=member,
                    )
                    context["new_invite"] = invite
                    context["new_link"] = request.build_absolute_uri(
                        reverse("console:invite", args=[token])
                    )
                    invite_form = InviteForm(roles=assignable)
                else:
                    status = 400
            elif action == "revoke":
                members.invite_revoke(
                    merchant=member.merchant, invite_id=_uuid(request, "invite"), by=member
                )
                messages.success(request, _("The invitation was withdrawn."))
                return redirect("console:team")
            elif action == "remove":
                members.member_remove(
                    merchant=member.merchant, member_id=_uuid(request, "member"), by=member
                )
                messages.success(request, _("The member was removed."))
                return redirect("console:team")
            elif action == "role":
                role_form = RoleForm(request.POST, roles=assignable)
                if not role_form.is_valid():
                    raise members.RoleInvalid
                members.member_role_set(
                    merchant=member.merchant,
                    member_id=_uuid(request, "member"),
                    role=role_form.cleaned_data["role"],
                    by=member,
                )
                messages.success(request, _("The role was changed."))
                return redirect("console:team")
            else:
                status = 400
                context["error"] = _("Unknown action.")
        except NotFound:
            raise Http404 from None
        except DomainError as error:
            status = 409 if error.code == members.LastOwner.code else 400
            if isinstance(error, members.RoleNotManageable):
                status = 403
            context["error"] = refusal(error)
    context.update(_team_context(member))
    context["invite_form"] = invite_form
    return render(request, "console/team.html", context, status=status)


def _uuid(request: HttpRequest, field: str) -> str:
    try:
        return str(uuid.UUID(request.POST.get(field, "")))
    except ValueError:
        raise Http404 from None


@never_cache
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: whoever opens it signs in (or makes an account), then
    accepts. An unusable link is a 404 page that says so."""
    found = members.invite_open_by_token(token=token)
    if found is None:
        return render(request, "console/invite_invalid.html", status=404)
    account_form = AccountForm()
    error = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "accept" and request.user.is_authenticated:
                members.invite_accept(token=token, user=request.user)
                return _welcome(request)
            if action == "register" and not request.user.is_authenticated:
                account_form = AccountForm(request.POST)
                if account_form.is_valid():
                    data = account_form.cleaned_data
                    with transaction.atomic():
                        user = accounts.account_register(
                            username=data["username"],
                            password=data["password"],
                            display_name=data["display_name"],
                        )
                        members.invite_accept(token=token, user=user)
                    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                    return _welcome(request)
                status = 400
            else:
                status = 400
        except DomainError as refused:
            error, status = refusal(refused), 409
    current = active_member(request.user)
    return render(
        request,
        "console/invite.html",
        {
            "invite": found,
            "account_form": account_form,
            "error": error,
            "current_member": current,
            "login_url": f"{reverse('console:login')}?next={request.path}",
        },
        status=status,
    )


def _welcome(request: HttpRequest) -> HttpResponse:
    messages.success(request, _("Welcome to the team."))
    return redirect("console:home")


@console_view(MANAGE)
def activity(request: HttpRequest) -> HttpResponse:
    member: MerchantMember = request.member  # type: ignore[attr-defined]
    return render(
        request, "console/activity.html", {"actions": actions_of(merchant=member.merchant)}
    )


urlpatterns: list[URLPattern] = [
    path("team/", team, name="team"),
    path("invite/<str:token>/", invite, name="invite"),
    path("activity/", activity, name="activity"),
]

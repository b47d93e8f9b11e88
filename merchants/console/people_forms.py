"""Forms of the team page."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext_lazy as _

from merchants.models import MemberRole


def role_choices(roles: Sequence[str]) -> list[tuple[str, str]]:
    labels = {
        MemberRole.OWNER: _("Owner"),
        MemberRole.MANAGER: _("Manager"),
        MemberRole.FRONT_DESK: _("Front desk"),
        MemberRole.BILLING_CLERK: _("Billing clerk"),
    }
    return [(role, str(labels[MemberRole(role)])) for role in roles]


class InviteForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    note = forms.CharField(
        label=_("Who is it for?"),
        help_text=_("A name you will recognise; the person does not see it."),
        max_length=200,
        required=False,
    )

    def __init__(self, *args: object, roles: Sequence[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["role"].choices = role_choices(roles)  # type: ignore[attr-defined]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("New role"))

    def __init__(self, *args: object, roles: Sequence[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["role"].choices = role_choices(roles)  # type: ignore[attr-defined]

"""Forms of the API keys and webhooks pages."""

from __future__ import annotations

import ipaddress
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.events import EventType
from merchants.models import ApiKeyScope

SCOPE_LABELS = {
    ApiKeyScope.ELIGIBILITY: _("Eligibility: redeem codes, ask for decisions, read consents"),
    ApiKeyScope.BOOKINGS: _("Bookings"),
    ApiKeyScope.CLAIMS: _("Claims"),
    ApiKeyScope.BILLS: _("Bills"),
    ApiKeyScope.DISPUTES: _("Disputes"),
    ApiKeyScope.WEBHOOKS: _("Webhooks"),
}
MAX_NETWORKS = 20


class KeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        help_text=_("What the key is for, e.g. the booking system."),
        max_length=100,
    )
    scopes = forms.MultipleChoiceField(
        label=_("What it may do"),
        choices=[(scope.value, SCOPE_LABELS[scope]) for scope in ApiKeyScope],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one.")},
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        help_text=_("Empty: until you revoke it."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    networks = forms.CharField(
        label=_("Accepted only from these networks"),
        help_text=_("Addresses or CIDR blocks, one a line (e.g. 203.0.113.0/24). Empty: any."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_expires_on(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        zone = ZoneInfo(settings.TIME_ZONE)
        expires = datetime.combine(day, time(23, 59, 59), tzinfo=zone)
        if expires <= timezone.now():
            raise forms.ValidationError(_("Choose a day in the future."), code="past")
        return expires

    def clean_networks(self) -> list[str]:
        lines = [line.strip() for line in str(self.cleaned_data.get("networks", "")).splitlines()]
        networks = []
        for line in filter(None, lines):
            try:
                ipaddress.ip_network(line, strict=False)
            except ValueError:
                raise forms.ValidationError(
                    _("“%(value)s” is not an address or a CIDR block."),
                    code="network_invalid",
                    params={"value": line[:60]},
                ) from None
            networks.append(line)  # as typed: the key's service keeps it so, or says why not
        if len(networks) > MAX_NETWORKS:
            raise forms.ValidationError(
                _("At most %(count)s networks."), params={"count": MAX_NETWORKS}
            )
        return networks


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        help_text=_("Where we send the events: https, reachable from the internet."),
        max_length=2000,
        assume_scheme="https",
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(event, event) for event in EventType.values],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one.")},
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def clean_url(self) -> Any:
        url = self.cleaned_data["url"]
        if not str(url).startswith(("https://", "http://")):
            raise forms.ValidationError(_("Use an https:// address."))
        return url

"""API keys and webhooks: what a merchant's developers set up in the console. Keys and
signing secrets are shown once, on the page that made them, and never again."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from common.domain import DomainError
from merchants.console.access import MANAGE, console_view
from merchants.console.integration_forms import EndpointForm, KeyForm
from merchants.console.models import DeliveryStatus
from merchants.console.selectors import integration as selectors
from merchants.console.services import integration as services
from merchants.errors import NotFound
from merchants.models import ApiKeyScope, MerchantMember


def _member(request: HttpRequest) -> MerchantMember:
    member: MerchantMember = request.member  # type: ignore[attr-defined]
    return member


# The services' names of fields the forms name otherwise.
FORM_FIELD_OF = {"allowed_networks": "networks", "expires_at": "expires_on"}


def _form_errors_from(form: KeyForm | EndpointForm, error: DomainError) -> None:
    """A service's refusal as the form's errors: its field errors where the form has the
    field, the rest above the form."""
    placed = False
    for item in error.errors:
        field = FORM_FIELD_OF.get(item.field, item.field)
        if field in form.fields:
            form.add_error(field, item.message)
            placed = True
    if not placed:
        form.add_error(None, error.detail)


@never_cache
@console_view(MANAGE)
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = KeyForm(initial={"scopes": list(ApiKeyScope.values)})
    context: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "create":
            form = KeyForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    api_key, raw = services.console_key_create(
                        member=member,
                        name=data["name"],
                        scopes=data["scopes"],
                        expires_at=data["expires_on"],
                        allowed_networks=data["networks"],
                    )
                except DomainError as error:
                    _form_errors_from(form, error)
                else:
                    context["new_key"], context["raw_key"] = api_key, raw
                    form = KeyForm(initial={"scopes": list(ApiKeyScope.values)})
            if form.errors:
                status = 400
        elif action == "revoke":
            try:
                key_id = int(request.POST.get("key", ""))
                services.console_key_revoke(member=member, key_id=key_id)
            except (ValueError, NotFound):
                raise Http404 from None
            messages.success(request, _("The key was revoked: it stops working at once."))
            return redirect("console:keys")
        else:
            return HttpResponse(status=400)
    context.update(
        form=form,
        keys=selectors.keys_of(merchant=member.merchant),
        now=timezone.now(),
    )
    return render(request, "console/keys.html", context, status=status)


@never_cache
@console_view(MANAGE)
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    form = EndpointForm()
    context: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                endpoint, secret = services.console_endpoint_create(
                    member=member,
                    url=data["url"],
                    events=data["events"],
                    description=data["description"],
                )
            except DomainError as error:
                _form_errors_from(form, error)
            else:
                context["new_endpoint"], context["secret"] = endpoint, secret
                form = EndpointForm()
        if form.errors:
            status = 400
    context.update(form=form, endpoints=selectors.endpoints_of(merchant=member.merchant))
    return render(request, "console/webhooks.html", context, status=status)


@never_cache
@console_view(MANAGE)
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, endpoint_id: uuid.UUID) -> HttpResponse:
    member = _member(request)
    try:
        endpoint = selectors.endpoint_of(merchant=member.merchant, endpoint_id=endpoint_id)
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "delete":
                services.console_endpoint_delete(member=member, endpoint_id=endpoint.pk)
                messages.success(request, _("The endpoint was deleted."))
                return redirect("console:webhooks")
            if action == "enable":
                services.console_endpoint_enable(member=member, endpoint_id=endpoint.pk)
                messages.success(request, _("The endpoint receives events again."))
            elif action == "resend":
                delivery_id = uuid.UUID(request.POST.get("delivery", ""))
                services.console_delivery_resend(member=member, delivery_id=delivery_id)
                messages.success(request, _("The event will be sent again in a moment."))
            else:
                return HttpResponse(status=400)
        except (ValueError, NotFound):
            raise Http404 from None
        except DomainError as error:
            messages.error(request, error.detail)
        return redirect(reverse("console:webhook", args=[endpoint.pk]))
    status_filter = request.GET.get("status", "")
    if status_filter not in DeliveryStatus.values:
        status_filter = ""
    context = {
        "endpoint": endpoint,
        "deliveries": selectors.deliveries_of_endpoint(endpoint=endpoint, status=status_filter),
        "status_filter": status_filter,
        "statuses": DeliveryStatus.values,
    }
    template = (
        "console/_deliveries.html" if getattr(request, "htmx", False) else "console/webhook.html"
    )
    return render(request, template, context)


urlpatterns: list[URLPattern] = [
    path("keys/", keys, name="keys"),
    path("webhooks/", webhooks, name="webhooks"),
    path("webhooks/<uuid:endpoint_id>/", webhook, name="webhook"),
]
